//! Writes the results: `results.json`, `report.md` (a table per scenario, presets side by side) and
//! one PNG per scenario with four panels (price, insurance fund, cumulative liquidations, margin
//! multiplier; one line per preset).
use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::run::RunResult;

const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

pub fn write(out: &Path, results: &[RunResult]) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("results.json"), serde_json::to_string_pretty(results)?)?;
    let fonts = register_font();
    let mut md = String::from("# Stress report\n\nEvery run replays the path through the real program (in-process chain) with the same seeded\npopulation; conservation is checked after every step (on-chain aggregates) and by a full account\nscan at the end.\n");
    let mut charts = vec![];
    let mut scenarios: Vec<&str> = results.iter().map(|r| r.scenario.as_str()).collect();
    scenarios.dedup();
    for scenario in scenarios {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.scenario == scenario).collect();
        writeln!(md, "\n## {scenario}\n").unwrap();
        writeln!(md, "| metric | {} |", runs.iter().map(|r| r.preset.name()).collect::<Vec<_>>().join(" | ")).unwrap();
        writeln!(md, "|---|{}", "---:|".repeat(runs.len())).unwrap();
        let row = |name: &str, f: &dyn Fn(&RunResult) -> String| {
            format!("| {name} | {} |\n", runs.iter().map(|r| f(r)).collect::<Vec<_>>().join(" | "))
        };
        md += &row("traders", &|r| r.summary.traders.to_string());
        md += &row("liquidations, partial / full", &|r| {
            format!("{} / {}", r.summary.liquidations_partial, r.summary.liquidations_full)
        });
        md += &row("accounts wiped out", &|r| r.summary.accounts_wiped_out.to_string());
        md += &row("bad debt ($)", &|r| format!("{:.0}", r.summary.bad_debt));
        md += &row("insurance fund start → end ($)", &|r| {
            format!("{:.0} → {:.0}", r.summary.insurance_fund_start, r.summary.insurance_fund_end)
        });
        md += &row("insurance paid out ($)", &|r| format!("{:.0}", r.summary.insurance_paid));
        md += &row("insurance drawdown ($)", &|r| format!("{:.0}", r.summary.insurance_drawdown));
        md += &row("ADL notional ($)", &|r| format!("{:.0}", r.summary.adl_notional));
        md += &row("socialised loss ($)", &|r| format!("{:.2}", r.summary.socialized_loss));
        md += &row("breaker trips", &|r| r.summary.breaker_trips.to_string());
        md += &row("hours reduce-only / halted", &|r| {
            format!("{:.1} / {:.1}", r.summary.hours_reduce_only, r.summary.hours_halted)
        });
        md += &row("peak margin multiplier", &|r| format!("{:.2}", r.summary.peak_multiplier));
        md += &row("transactions", &|r| r.summary.transactions.to_string());
        md += &row("steps (conservation checks)", &|r| {
            format!("{} ({})", r.summary.steps, r.summary.conservation_checks)
        });
        md += &row("wall time (s), tx/s", &|r| format!("{:.1}, {:.0}", r.wall_seconds, r.transactions_per_second));
        if fonts {
            let file = format!("{scenario}.png");
            match chart(&out.join(&file), scenario, &runs) {
                Ok(()) => {
                    writeln!(md, "\n![{scenario}]({file})").unwrap();
                    charts.push(file);
                }
                Err(e) => writeln!(md, "\n(chart failed: {e})").unwrap(),
            }
        }
    }
    if !fonts {
        md += &format!("\n(charts skipped: no font at {FONT_PATH})\n");
    }
    std::fs::write(out.join("report.md"), md)?;
    Ok(charts)
}

fn register_font() -> bool {
    let Ok(bytes) = std::fs::read(FONT_PATH) else { return false };
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
}

const COLORS: [RGBColor; 3] = [RGBColor(200, 60, 60), RGBColor(60, 120, 200), RGBColor(40, 160, 80)];

fn chart(path: &Path, scenario: &str, runs: &[&RunResult]) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1200, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(scenario, ("sans-serif", 28))?;
    let panels = root.split_evenly((2, 2));
    let hours = runs[0].samples.last().map_or(1.0, |s| s.hours).max(0.01);
    type Pick = fn(&crate::run::Sample) -> f64;
    let series: [(&str, Pick); 4] = [
        ("price", |s| s.price),
        ("insurance fund ($)", |s| s.insurance_fund),
        ("cumulative liquidations", |s| s.liquidations as f64),
        ("initial-margin multiplier", |s| s.multiplier),
    ];
    for (panel, (title, pick)) in panels.iter().zip(series) {
        let (lo, hi) = runs
            .iter()
            .flat_map(|r| r.samples.iter().map(pick))
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let pad = ((hi - lo) * 0.05).max(1e-9);
        let mut c = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..hours, (lo - pad)..(hi + pad))?;
        c.configure_mesh().x_desc("hours").label_style(("sans-serif", 14)).draw()?;
        for (i, r) in runs.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            c.draw_series(LineSeries::new(r.samples.iter().map(|s| (s.hours, pick(s))), color.stroke_width(2)))?
                .label(r.preset.name())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

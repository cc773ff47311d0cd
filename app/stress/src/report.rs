//! Writes the results: `results.json` (every run), `report.md` (per scenario a table of every
//! metric, presets side by side as mean ± 95% interval over seeds; a summary table over all
//! scenarios; the attackers' profits), one PNG per scenario (exogenous vs impacted price of the
//! thin market, insurance fund, cumulative bad debt, wiped accounts; seed 1, one line per preset)
//! and `summary.png` (every metric per preset with intervals).
use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::agents::attackers::AttackKind;
use crate::presets::Preset;
use crate::run::{RunResult, Summary};
use crate::stats::{estimate, Estimate};

const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// A reported metric: name, decimals, and how to read it off a run.
pub struct Metric {
    pub name: &'static str,
    pub decimals: usize,
    pub read: fn(&Summary) -> f64,
}

pub const METRICS: [Metric; 23] = [
    Metric { name: "bad debt ($)", decimals: 0, read: |s| s.bad_debt },
    Metric { name: "  of which insurance-covered ($)", decimals: 0, read: |s| s.insurance_covered },
    Metric { name: "  of which ADL-absorbed ($)", decimals: 0, read: |s| s.adl_loss },
    Metric { name: "  of which socialised ($)", decimals: 0, read: |s| s.socialized_loss },
    Metric { name: "  deficits reached: traders ($)", decimals: 0, read: |s| s.deficit_traders },
    Metric { name: "  deficits reached: attackers ($)", decimals: 0, read: |s| s.deficit_attackers },
    Metric { name: "  deficits reached: liquidators ($)", decimals: 0, read: |s| s.deficit_liquidators },
    Metric { name: "  deficits reached: market makers ($)", decimals: 0, read: |s| s.deficit_market_makers },
    Metric { name: "accounts wiped out", decimals: 1, read: |s| s.accounts_wiped_out as f64 },
    Metric { name: "trader equity lost to liquidation ($)", decimals: 0, read: |s| s.trader_loss_to_liquidation },
    Metric { name: "insurance fund drawdown ($)", decimals: 0, read: |s| s.insurance_drawdown },
    Metric { name: "insurance fund at start ($)", decimals: 0, read: |s| s.insurance_fund_start },
    Metric { name: "fund / shortfall of a 20% gap at start (coverage)", decimals: 2, read: |s| s.insurance_coverage },
    Metric { name: "ADL notional ($)", decimals: 0, read: |s| s.adl_notional },
    Metric { name: "volume forced through the depth ($)", decimals: 0, read: |s| s.forced_volume },
    Metric { name: "peak impact of forced flow on price (%)", decimals: 2, read: |s| s.peak_forced_impact_percent },
    Metric { name: "peak impact of all flow on price (%)", decimals: 2, read: |s| s.peak_impact_percent },
    Metric { name: "breaker market-hours", decimals: 2, read: |s| s.breaker_hours },
    // Trips (a market leaving NORMAL) per run: on a whipsaw, a breaker that oscillates trips
    // on every swing.
    Metric { name: "breaker trips", decimals: 1, read: |s| s.breaker_trips as f64 },
    Metric { name: "attacker profit ($)", decimals: 2, read: |s| s.attacker_profit },
    Metric { name: "liquidations", decimals: 1, read: |s| s.liquidations as f64 },
    Metric { name: "stop orders filled", decimals: 1, read: |s| s.stop_orders_filled as f64 },
    Metric { name: "trader trades (refused)", decimals: 1, read: |s| s.trader_trades as f64 },
];

pub struct Written {
    pub charts: Vec<String>,
    /// The summary table (markdown), also printed by the binary.
    pub summary_table: String,
    /// Whether full beats both baselines, per scenario (empty unless all three presets ran).
    pub acceptance_table: String,
}

/// One comparison of the acceptance table: full's mean against another preset's, and whether
/// their 95% intervals overlap.
fn compare(full: Estimate, other: Estimate, strictly_lower: bool) -> (bool, bool) {
    let holds = if strictly_lower { full.mean < other.mean } else { full.mean <= other.mean };
    let overlap = (full.mean - full.half_width) <= (other.mean + other.half_width)
        && (other.mean - other.half_width) <= (full.mean + full.half_width);
    (holds, overlap)
}

/// `mark` of `compare`, or a tie when both are zero (nothing to beat).
fn versus(full: Estimate, other: Estimate, strictly_lower: bool) -> &'static str {
    if strictly_lower && full.mean == 0.0 && other.mean == 0.0 {
        return "tie (both 0)";
    }
    let (holds, overlap) = compare(full, other, strictly_lower);
    mark(holds, overlap)
}

fn mark(holds: bool, overlap: bool) -> &'static str {
    match (holds, overlap) {
        (true, false) => "yes",
        (true, true) => "yes (intervals overlap)",
        (false, false) => "NO",
        (false, true) => "no (intervals overlap)",
    }
}

/// Per scenario: does full have lower bad debt and fewer wiped accounts than drift-like and naive
/// (equal zeros count as a tie, not a win), a smaller insurance drawdown than drift-like, no more
/// trader equity lost to liquidation than drift-like, and attacker profit ≤ 0 (the largest run)?
pub fn acceptance(results: &[RunResult]) -> String {
    let presets = presets_in(results);
    if !(presets.contains(&Preset::Naive) && presets.contains(&Preset::DriftLike) && presets.contains(&Preset::Full)) {
        return String::new();
    }
    let mut md = String::from(
        "| scenario | seeds | bad debt < drift-like, naive | wiped < drift-like, naive | drawdown < drift-like | equity lost ≤ drift-like | attackers ≤ 0 (max run) |\n|---|---:|---|---|---|---|---|\n",
    );
    for scenario in scenarios_in(results) {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.scenario == scenario).collect();
        let seeds = runs.iter().filter(|r| r.preset == Preset::Full).count();
        let e = |p: Preset, read: fn(&Summary) -> f64| metric_estimate(&runs, p, read);
        let two = |read: fn(&Summary) -> f64| {
            let f = e(Preset::Full, read);
            let (d, n) = (e(Preset::DriftLike, read), e(Preset::Naive, read));
            format!("{}, {} ({:.1} vs {:.1}, {:.1})", versus(f, d, true), versus(f, n, true), f.mean, d.mean, n.mean)
        };
        let one = |read: fn(&Summary) -> f64, strictly: bool| {
            let (f, d) = (e(Preset::Full, read), e(Preset::DriftLike, read));
            format!("{} ({:.0} vs {:.0})", versus(f, d, strictly), f.mean, d.mean)
        };
        let worst = runs
            .iter()
            .filter(|r| r.preset == Preset::Full)
            .flat_map(|r| r.attackers.iter().map(|a| a.profit))
            .fold(f64::MIN, f64::max);
        writeln!(
            md,
            "| {scenario} | {seeds} | {} | {} | {} | {} | {} ({:.2}) |",
            two(|s| s.bad_debt),
            two(|s| s.accounts_wiped_out as f64),
            one(|s| s.insurance_drawdown, true),
            one(|s| s.trader_loss_to_liquidation, false),
            if worst <= 0.0 { "yes" } else { "NO" },
            worst
        )
        .unwrap();
    }
    md
}

/// Each value once, in order of first appearance.
fn distinct<T: PartialEq>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = vec![];
    for x in values {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

fn presets_in(results: &[RunResult]) -> Vec<Preset> {
    distinct(results.iter().map(|r| r.preset))
}

fn scenarios_in(results: &[RunResult]) -> Vec<String> {
    distinct(results.iter().map(|r| r.scenario.clone()))
}

/// The metric over the runs of `preset` in `runs`.
pub fn metric_estimate(runs: &[&RunResult], preset: Preset, read: fn(&Summary) -> f64) -> Estimate {
    let xs: Vec<f64> = runs.iter().filter(|r| r.preset == preset).map(|r| read(&r.summary)).collect();
    estimate(&xs)
}

fn table(runs: &[&RunResult], presets: &[Preset]) -> String {
    let mut md = String::new();
    writeln!(md, "| metric | {} |", presets.iter().map(|p| p.name()).collect::<Vec<_>>().join(" | ")).unwrap();
    writeln!(md, "|---|{}", "---:|".repeat(presets.len())).unwrap();
    for m in &METRICS {
        let cells: Vec<String> = presets
            .iter()
            .map(|&p| {
                let e = metric_estimate(runs, p, m.read);
                if m.name.starts_with("trader trades") {
                    let refused = metric_estimate(runs, p, |s| s.trader_trades_refused as f64);
                    format!("{} ({})", e.show(m.decimals), refused.show(m.decimals))
                } else {
                    e.show(m.decimals)
                }
            })
            .collect();
        writeln!(md, "| {} | {} |", m.name, cells.join(" | ")).unwrap();
    }
    md
}

pub fn write(out: &Path, results: &[RunResult]) -> std::io::Result<Written> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("results.json"), serde_json::to_string_pretty(results)?)?;
    let fonts = register_font();
    let presets = presets_in(results);
    let scenarios = scenarios_in(results);
    // Distinct seeds (they need not start at 1: `--first-seed`).
    let seeds = distinct(results.iter().map(|r| r.seed)).len();
    let all: Vec<&RunResult> = results.iter().collect();
    let summary_table = format!(
        "All scenarios ({} scenarios × {} seeds; mean ± 95% interval over runs)\n\n{}",
        scenarios.len(),
        seeds,
        table(&all, &presets)
    );
    let acceptance_table = acceptance(results);
    let mut md = String::from(
        "# Stress report\n\nEvery run goes through the real program (in-process chain): three markets driven by one\n\
         scenario path (per-market beta and noise), prices moved by the impact of flow through each\n\
         market's depth, live traders, four competing liquidators that unload into the depth (the\n\
         largest one down for a while at the steepest hour), and five attackers. Conservation is checked\n\
         after every step and by a full account scan at the end. Cells are mean ± 95% interval over\n\
         seeds (Student's t).\n\n## Summary\n\n",
    );
    md += &summary_table;
    if !acceptance_table.is_empty() {
        md += "\n## Does full beat both baselines? (issue 18's acceptance, per scenario)\n\n";
        md += &acceptance_table;
    }
    md += "\n## Attackers (profit in $, summed over runs' mean; must be ≤ 0)\n\n";
    writeln!(md, "| attack | {} |", presets.iter().map(|p| p.name()).collect::<Vec<_>>().join(" | ")).unwrap();
    writeln!(md, "|---|{}", "---:|".repeat(presets.len())).unwrap();
    for kind in AttackKind::ALL {
        let cells: Vec<String> = presets
            .iter()
            .map(|&p| {
                let reports: Vec<_> = results
                    .iter()
                    .filter(|r| r.preset == p)
                    .flat_map(|r| r.attackers.iter().filter(|a| a.kind == Some(kind)))
                    .collect();
                let profits: Vec<f64> = reports.iter().map(|a| a.profit).collect();
                let refused: u64 = reports.iter().map(|a| a.refused).sum();
                let attempts: u64 = reports.iter().map(|a| a.attempts).sum();
                let max = profits.iter().cloned().fold(f64::MIN, f64::max);
                format!("{} (max {:.2}; {refused}/{attempts} refused)", estimate(&profits).show(2), max)
            })
            .collect();
        writeln!(md, "| {} | {} |", kind.name(), cells.join(" | ")).unwrap();
    }
    let mut charts = vec![];
    for scenario in &scenarios {
        let runs: Vec<&RunResult> = results.iter().filter(|r| &r.scenario == scenario).collect();
        let n = runs.iter().map(|r| r.seed).collect::<std::collections::BTreeSet<_>>().len();
        writeln!(md, "\n## {scenario} ({n} seeds)\n").unwrap();
        md += &table(&runs, &presets);
        if fonts {
            let first: Vec<&RunResult> =
                presets.iter().filter_map(|&p| runs.iter().find(|r| r.preset == p).copied()).collect();
            let file = format!("{scenario}.png");
            match chart(&out.join(&file), scenario, &first) {
                Ok(()) => {
                    writeln!(md, "\n![{scenario}]({file})").unwrap();
                    charts.push(file);
                }
                Err(e) => writeln!(md, "\n(chart failed: {e})").unwrap(),
            }
        }
    }
    if fonts {
        match summary_chart(&out.join("summary.png"), &all, &presets) {
            Ok(()) => {
                md = md.replacen("## Summary\n\n", "## Summary\n\n![summary](summary.png)\n\n", 1);
                charts.push("summary.png".into());
            }
            Err(e) => writeln!(md, "\n(summary chart failed: {e})").unwrap(),
        }
    } else {
        md += &format!("\n(charts skipped: no font at {FONT_PATH})\n");
    }
    std::fs::write(out.join("report.md"), md)?;
    Ok(Written { charts, summary_table, acceptance_table })
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
    let root = root.titled(&format!("{scenario} (seed 1)"), ("sans-serif", 28))?;
    let panels = root.split_evenly((2, 2));
    let hours = runs.first().and_then(|r| r.samples.last()).map_or(1.0, |s| s.hours).max(0.01);
    type Pick = fn(&crate::run::Sample) -> f64;
    let series: [(&str, Pick); 4] = [
        ("ALT price: impacted (exogenous dashed)", |s| s.oracle[2]),
        ("insurance fund ($)", |s| s.insurance_fund),
        ("cumulative bad debt ($)", |s| s.bad_debt),
        ("accounts wiped out", |s| s.wiped as f64),
    ];
    for (k, (panel, (title, pick))) in panels.iter().zip(series).enumerate() {
        let (mut lo, mut hi) = runs
            .iter()
            .flat_map(|r| r.samples.iter().map(pick))
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        if k == 0 {
            for s in runs.iter().flat_map(|r| r.samples.iter()) {
                lo = lo.min(s.exogenous[2]);
                hi = hi.max(s.exogenous[2]);
            }
        }
        let pad = ((hi - lo) * 0.05).max(1e-9);
        let mut c = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..hours, (lo - pad)..(hi + pad))?;
        c.configure_mesh().x_desc("hours").label_style(("sans-serif", 14)).draw()?;
        if k == 0 {
            if let Some(r) = runs.first() {
                c.draw_series(DashedLineSeries::new(
                    r.samples.iter().map(|s| (s.hours, s.exogenous[2])),
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))?
                .label("exogenous")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK));
            }
        }
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

/// One panel per metric: a bar per preset at the mean over all runs, with its 95% interval.
fn summary_chart(path: &Path, runs: &[&RunResult], presets: &[Preset]) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1500, 1100)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled("every metric per preset (mean ± 95% interval, all runs)", ("sans-serif", 26))?;
    let panels = root.split_evenly((4, 4));
    for (panel, m) in panels.iter().zip(METRICS.iter()) {
        let est: Vec<Estimate> = presets.iter().map(|&p| metric_estimate(runs, p, m.read)).collect();
        let hi = est.iter().map(|e| e.mean + e.half_width).fold(0.0, f64::max);
        let lo = est.iter().map(|e| e.mean - e.half_width).fold(0.0, f64::min);
        let pad = ((hi - lo) * 0.1).max(1e-6);
        let mut c = ChartBuilder::on(panel)
            .caption(m.name.trim(), ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(20)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..presets.len() as f64, (lo - pad)..(hi + pad))?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(presets.len())
            .x_label_formatter(&|x| presets.get(*x as usize).map_or(String::new(), |p| p.name().to_string()))
            .label_style(("sans-serif", 12))
            .draw()?;
        for (i, e) in est.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let x = i as f64;
            c.draw_series(std::iter::once(Rectangle::new([(x + 0.2, 0.0), (x + 0.8, e.mean)], color.filled())))?;
            c.draw_series(std::iter::once(PathElement::new(
                vec![(x + 0.5, e.mean - e.half_width), (x + 0.5, e.mean + e.half_width)],
                BLACK.stroke_width(2),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, half_width: f64) -> Estimate {
        Estimate { mean, half_width, n: 3 }
    }

    #[test]
    fn comparisons_say_when_intervals_overlap() {
        assert_eq!(compare(est(1.0, 0.5), est(3.0, 0.5), true), (true, false));
        assert_eq!(compare(est(1.0, 1.5), est(3.0, 0.6), true), (true, true));
        assert_eq!(compare(est(3.0, 0.1), est(1.0, 0.1), true), (false, false));
        // Equal means: not lower, but no more than.
        assert_eq!(compare(est(2.0, 0.0), est(2.0, 0.0), true).0, false);
        assert_eq!(compare(est(2.0, 0.0), est(2.0, 0.0), false).0, true);
        assert_eq!(mark(true, false), "yes");
        assert_eq!(mark(false, true), "no (intervals overlap)");
        assert_eq!(versus(est(0.0, 0.0), est(0.0, 0.0), true), "tie (both 0)");
        assert_eq!(versus(est(0.0, 0.0), est(0.0, 0.0), false), "yes (intervals overlap)");
    }
}

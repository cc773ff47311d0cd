//! Demo: boots an in-process chain with the real program, creates an exchange and two markets,
//! opens accounts, deposits, trades, accrues funding, moves the oracle and prints each account's
//! health after every step.
use margin_engine::health::{account_health, MarketSnapshot, PriceCache};
use margin_engine_sdk::pda;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;

const SOL: u16 = 0;
const BTC: u16 = 1;

fn usd(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}${}.{:06}", a / 1_000_000, a % 1_000_000)
}

struct Demo {
    env: TestEnv<NativeBackend>,
    traders: Vec<(&'static str, Trader)>,
    prices: Vec<u64>,
}

impl Demo {
    fn set_price(&mut self, market: u16, price: u64) {
        self.env.set_price(market, price as i64);
        self.prices[market as usize] = price;
    }

    fn print_health(&mut self, step: &str) {
        let mut cache = PriceCache::new();
        for (i, &p) in self.prices.iter().enumerate() {
            let market = self.env.market(i as u16);
            cache.insert(MarketSnapshot::at_hypothetical_price(&market, p)).unwrap();
        }
        println!("\n== {step}");
        println!(
            "{:<8} {:>16} {:>16} {:>16} {:>16}",
            "account", "collateral", "unrealised PnL", "initial health", "maint. health"
        );
        for (name, t) in self.traders.clone() {
            let account = self.env.margin_account(t.margin_account);
            let h = account_health(&account, &cache).unwrap();
            println!(
                "{:<8} {:>16} {:>16} {:>16} {:>16}",
                name,
                usd(h.collateral),
                usd(h.unrealized_pnl),
                usd(h.initial_health),
                usd(h.maintenance_health)
            );
        }
        self.env.assert_conservation();
    }
}

fn main() {
    let mut env = TestEnv::new(NativeBackend::new());
    println!("exchange {} (collateral mint {})", pda::exchange(), env.collateral_mint);
    env.add_market("SOL-PERP", 150_000_000, default_risk());
    let btc_risk = margin_engine::state::RiskParams {
        tick_size: 1_000_000,
        step_size: 1_000_000,
        min_order_size: 1_000_000,
        ..default_risk()
    };
    env.add_market_with_oracle("BTC-PERP", 60_000_000_000, btc_risk, true);
    println!("markets: SOL-PERP @ $150 (Pyth), BTC-PERP @ $60,000 (Pyth + Switchboard fallback)");

    let alice = env.new_trader(50_000 * USDC);
    let bob = env.new_trader(50_000 * USDC);
    let keeper = env.new_trader(0);
    env.deposit(&alice, 2_000 * USDC).unwrap();
    env.deposit(&bob, 5_000 * USDC).unwrap();
    let mut demo = Demo {
        env,
        traders: vec![("alice", alice.clone()), ("bob", bob.clone()), ("keeper", keeper.clone())],
        prices: vec![150_000_000, 60_000_000_000],
    };
    demo.print_health("deposits: alice $2,000, bob $5,000");

    let fees_before = (demo.env.exchange().fee_pool, demo.env.token_balance(pda::insurance_vault()));
    demo.env.trade(&keeper, &alice, &bob, SOL, BID, 150_000_000, 60 * BASE as u64).unwrap();
    demo.env.trade(&keeper, &bob, &alice, BTC, BID, 60_000_000_000, 50_000_000).unwrap();
    demo.print_health("alice buys 60 SOL-PERP at $150 and sells 0.05 BTC-PERP at $60,000 to bob (keeper fills)");

    // One funding period with fills above the oracle: longs (alice on SOL) pay shorts.
    let period = default_risk().funding_period_slots as u64;
    demo.env.advance_slots(period / 2);
    demo.set_price(SOL, 150_000_000);
    demo.set_price(BTC, 60_000_000_000);
    demo.env.trade(&keeper, &alice, &bob, SOL, BID, 150_300_000, BASE as u64).unwrap();
    demo.env.advance_slots(period / 2);
    demo.set_price(SOL, 150_000_000);
    demo.set_price(BTC, 60_000_000_000);
    demo.env.update_funding(SOL).unwrap();
    demo.env.update_funding(BTC).unwrap();
    let sol = demo.env.market(SOL);
    println!(
        "\nfunding SOL-PERP: mark TWAP {} oracle TWAP {} -> longs pay {} per SOL",
        usd(sol.mark_twap as i128),
        usd(sol.oracle_twap as i128),
        usd(sol.last_funding_payment as i128)
    );
    demo.print_health("after one funding period (funding is unsettled until positions are touched)");

    demo.set_price(SOL, 132_000_000);
    demo.set_price(BTC, 63_000_000_000);
    demo.print_health("oracle moves: SOL -12% to $132, BTC +5% to $63,000");

    // Bob closes part of his SOL short against a new maker (alice): funding settles for both.
    demo.env.trade(&keeper, &bob, &alice, SOL, BID, 132_000_000, 20 * BASE as u64).unwrap();
    demo.print_health("bob buys back 20 SOL at $132 from alice: PnL and funding realised into collateral");

    let fees_after = (demo.env.exchange().fee_pool, demo.env.token_balance(pda::insurance_vault()));
    println!("\n{:<32} {:>14}", "money moved", "amount");
    println!("{:<32} {:>14}", "protocol fee pool", usd((fees_after.0 - fees_before.0) as i128));
    println!("{:<32} {:>14}", "insurance fund (fee share)", usd((fees_after.1 - fees_before.1) as i128));
    println!(
        "{:<32} {:>14}",
        "keeper filler rewards",
        usd(demo.env.margin_account(keeper.margin_account).collateral as i128)
    );
    println!("{:<32} {:>14}", "SOL-PERP funding pool (surplus)", usd(demo.env.market(SOL).funding_pool as i128));
    println!(
        "\nconservation held after every step: vault == Σ collateral + Σ position quote + funding pools + fee pool"
    );
}

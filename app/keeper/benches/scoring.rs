//! Scoring 100,000 decoded margin accounts (3 positions each across 8 markets) with the program's
//! health math: the keeper's per-price-change work. Target: <= 100 ms on one core.
use criterion::{criterion_group, criterion_main, Criterion};
use margin_engine::health::{MarketSnapshot, PriceCache};
use margin_engine::state::{MarginAccount, Market, PerpPosition};
use margin_engine_keeper::score_accounts;
use margin_engine_tests::default_risk;

fn market(index: u16) -> Market {
    let mut m: Market = bytemuck::Zeroable::zeroed();
    m.market_index = index;
    m.risk = default_risk();
    m.initial_multiplier = 1_000_000;
    m.maintenance_multiplier = 1_000_000;
    m
}

fn accounts(n: usize) -> Vec<MarginAccount> {
    let mut seed = 42u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..n)
        .map(|_| {
            let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
            a.collateral = (next() % 100_000_000_000) as i64;
            for slot in 0..3 {
                let base = (next() % 1_000_000_000_000) as i64 - 500_000_000_000;
                a.positions[slot] = PerpPosition {
                    base_amount: base,
                    quote_amount: -(base / 10),
                    market_index: (next() % 8) as u16 * 0 + slot as u16 * 2 + (next() % 2) as u16,
                    ..PerpPosition::default()
                };
            }
            a
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let markets: Vec<Market> = (0..8).map(market).collect();
    let mut cache = PriceCache::new();
    for (i, m) in markets.iter().enumerate() {
        cache.insert(MarketSnapshot::at_hypothetical_price(m, 100_000_000 + i as u64 * 1_000_000)).unwrap();
    }
    let accounts = accounts(100_000);
    let mut group = c.benchmark_group("keeper");
    group.sample_size(10);
    group.bench_function("score 100k accounts", |b| b.iter(|| score_accounts(accounts.iter(), &cache).len()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

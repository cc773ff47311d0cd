//! The operations a sequence is made of, and how a seed draws them. Indexes (trader, market,
//! nth order) are taken modulo what exists when the operation runs, so any subsequence of a
//! sequence is itself a valid sequence: shrinking only removes operations.
use margin_engine_sdk::scenario::SplitMix;

/// How a posted oracle update is bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadOracle {
    /// Confidence far over the market's limit.
    WideConfidence,
    /// Price 40% away from its own EMA.
    EmaDiverged,
    /// A genuinely signed older update of this feed, posted again (`back` updates back).
    Replay { back: u8 },
    /// `VerificationLevel::Partial`.
    PartiallyVerified,
    /// A zero price.
    NonPositive,
    /// Another feed's update in this market's account.
    WrongFeed,
    /// Published long ago (older than the liquidation hard age).
    Ancient,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Deposit {
        trader: u8,
        usd: u32,
    },
    Withdraw {
        trader: u8,
        usd: u32,
    },
    /// A resting order: LIMIT, MARKET or ORACLE_PEG, maybe a trigger, reduce-only, post-only, expiry.
    Order {
        trader: u8,
        market: u8,
        buy: bool,
        offset_bps: i16,
        size: u16,
        kind: u8,
        trigger: u8,
        reduce_only: bool,
        post_only: bool,
        expiry: u16,
    },
    /// A maker order and a crossing taker order, filled by the keeper.
    Trade {
        taker: u8,
        maker: u8,
        market: u8,
        buy: bool,
        offset_bps: i16,
        size: u16,
    },
    /// `place_and_take` against the best resting orders on the other side.
    Take {
        taker: u8,
        market: u8,
        buy: bool,
        offset_bps: i16,
        size: u16,
        time_in_force: u8,
        market_order: bool,
    },
    /// The keeper matches the best crossing bid and ask in a market.
    FillBook {
        market: u8,
    },
    Cancel {
        trader: u8,
        nth: u8,
    },
    CancelAll {
        trader: u8,
    },
    Prune {
        trader: u8,
    },
    /// Every trigger order is offered to `trigger_order`.
    TriggerAll,
    /// A fresh valid price `bps` away from the last (jumps included).
    Move {
        market: u8,
        bps: i32,
    },
    /// Time passes with no new price.
    Wait {
        slots: u16,
    },
    BadOracle {
        market: u8,
        kind: BadOracle,
    },
    /// The funding period elapses (fresh prices posted), then `update_funding`.
    Funding {
        market: u8,
    },
    Refresh {
        market: u8,
    },
    /// Anyone (here a trader) tries to liquidate anyone in a market.
    Liquidate {
        liquidator: u8,
        target: u8,
        market: u8,
    },
    /// Fresh prices, then liquidations and the whole waterfall until nothing is left to do; then
    /// the after-a-pass invariants.
    Pass,
    Stake {
        trader: u8,
        usd: u32,
    },
    RequestUnstake {
        trader: u8,
        percent: u8,
    },
    Unstake {
        trader: u8,
    },
    /// Governance proposes a change of one risk parameter (`param`), up or down.
    ProposeRisk {
        market: u8,
        param: u8,
        up: bool,
    },
    /// The timelock passes (fresh prices posted), then anyone executes.
    ExecuteRisk {
        market: u8,
    },
    CancelRisk {
        market: u8,
    },
    Pause {
        bits: u16,
        by_guardian: bool,
    },
    Resume {
        bits: u16,
    },
    ReduceOnly {
        market: u8,
        on: bool,
        by_guardian: bool,
    },
    Revenue {
        usd: u32,
    },
    Close {
        trader: u8,
    },
    Reopen {
        trader: u8,
    },
}

fn pick(rng: &mut SplitMix, n: u64) -> u64 {
    rng.next_u64() % n
}

fn chance(rng: &mut SplitMix, percent: u64) -> bool {
    pick(rng, 100) < percent
}

fn byte(rng: &mut SplitMix) -> u8 {
    rng.next_u64() as u8
}

/// Signed offset in basis points, mostly near the price.
fn offset(rng: &mut SplitMix, wide: i64) -> i16 {
    let narrow = pick(rng, 2 * 60 + 1) as i64 - 60;
    if chance(rng, 80) {
        narrow as i16
    } else {
        (pick(rng, 2 * wide as u64 + 1) as i64 - wide) as i16
    }
}

/// A price move: mostly noise, sometimes a gap of up to 60% either way.
fn price_move(rng: &mut SplitMix) -> i32 {
    if chance(rng, 85) {
        pick(rng, 2 * 300 + 1) as i32 - 300
    } else {
        let gap = 500 + pick(rng, 5_500) as i32;
        if chance(rng, 50) {
            gap
        } else {
            -gap
        }
    }
}

fn bad_oracle(rng: &mut SplitMix) -> BadOracle {
    match pick(rng, 7) {
        0 => BadOracle::WideConfidence,
        1 => BadOracle::EmaDiverged,
        2 => BadOracle::Replay { back: 1 + pick(rng, 4) as u8 },
        3 => BadOracle::PartiallyVerified,
        4 => BadOracle::NonPositive,
        5 => BadOracle::WrongFeed,
        _ => BadOracle::Ancient,
    }
}

/// One operation, weighted roughly as a busy exchange sees them (trading and prices most).
pub fn draw(rng: &mut SplitMix) -> Op {
    const WEIGHTS: [(u64, u8); 29] = [
        (6, 0),   // deposit
        (5, 1),   // withdraw
        (12, 2),  // order
        (12, 3),  // trade
        (5, 4),   // take
        (4, 5),   // fill book
        (3, 6),   // cancel
        (1, 7),   // cancel all
        (1, 8),   // prune
        (2, 9),   // trigger all
        (16, 10), // move
        (3, 11),  // wait
        (3, 12),  // bad oracle
        (2, 13),  // funding
        (2, 14),  // refresh
        (3, 15),  // liquidate
        (6, 16),  // pass
        (2, 17),  // stake
        (1, 18),  // request unstake
        (1, 19),  // unstake
        (1, 20),  // propose risk
        (1, 21),  // execute risk
        (1, 22),  // cancel risk
        (1, 23),  // pause
        (2, 24),  // resume
        (1, 25),  // reduce-only
        (1, 26),  // revenue
        (1, 27),  // close
        (1, 28),  // reopen
    ];
    let total: u64 = WEIGHTS.iter().map(|w| w.0).sum();
    let mut roll = pick(rng, total);
    let mut which = 0;
    for (weight, id) in WEIGHTS {
        if roll < weight {
            which = id;
            break;
        }
        roll -= weight;
    }
    let (t, m) = (byte(rng), byte(rng));
    match which {
        0 => Op::Deposit { trader: t, usd: 1 + pick(rng, 20_000) as u32 },
        1 => Op::Withdraw { trader: t, usd: 1 + pick(rng, 8_000) as u32 },
        2 => {
            let kind = match pick(rng, 10) {
                0 => margin_engine::state::order_kind::MARKET,
                1 => margin_engine::state::order_kind::ORACLE_PEG,
                _ => margin_engine::state::order_kind::LIMIT,
            };
            let trigger = if chance(rng, 15) { 1 + pick(rng, 2) as u8 } else { 0 };
            Op::Order {
                trader: t,
                market: m,
                buy: chance(rng, 50),
                offset_bps: offset(rng, 1_500),
                size: 1 + pick(rng, 2_000) as u16,
                kind,
                trigger,
                reduce_only: chance(rng, 25),
                post_only: chance(rng, 15),
                expiry: if chance(rng, 20) { 1 + pick(rng, 300) as u16 } else { 0 },
            }
        }
        3 => Op::Trade {
            taker: t,
            maker: byte(rng),
            market: m,
            buy: chance(rng, 50),
            offset_bps: offset(rng, 800),
            size: 1 + pick(rng, 2_000) as u16,
        },
        4 => Op::Take {
            taker: t,
            market: m,
            buy: chance(rng, 50),
            offset_bps: offset(rng, 800),
            size: 1 + pick(rng, 2_000) as u16,
            time_in_force: pick(rng, 3) as u8,
            market_order: chance(rng, 20),
        },
        5 => Op::FillBook { market: m },
        6 => Op::Cancel { trader: t, nth: byte(rng) },
        7 => Op::CancelAll { trader: t },
        8 => Op::Prune { trader: t },
        9 => Op::TriggerAll,
        10 => Op::Move { market: m, bps: price_move(rng) },
        11 => Op::Wait { slots: 1 + pick(rng, 900) as u16 },
        12 => Op::BadOracle { market: m, kind: bad_oracle(rng) },
        13 => Op::Funding { market: m },
        14 => Op::Refresh { market: m },
        15 => Op::Liquidate { liquidator: t, target: byte(rng), market: m },
        16 => Op::Pass,
        17 => Op::Stake { trader: t, usd: 1 + pick(rng, 5_000) as u32 },
        18 => Op::RequestUnstake { trader: t, percent: 1 + pick(rng, 100) as u8 },
        19 => Op::Unstake { trader: t },
        20 => Op::ProposeRisk { market: m, param: byte(rng), up: chance(rng, 50) },
        21 => Op::ExecuteRisk { market: m },
        22 => Op::CancelRisk { market: m },
        23 => Op::Pause { bits: 1 << pick(rng, 7), by_guardian: chance(rng, 50) },
        24 => Op::Resume {
            bits: if chance(rng, 50) { margin_engine::state::paused_operations::ALL } else { 1 << pick(rng, 7) },
        },
        25 => Op::ReduceOnly { market: m, on: chance(rng, 50), by_guardian: chance(rng, 50) },
        26 => Op::Revenue { usd: 1 + pick(rng, 2_000) as u32 },
        27 => Op::Close { trader: t },
        _ => Op::Reopen { trader: t },
    }
}

/// The sequence `seed` names: 8 to 64 operations.
pub fn sequence(seed: u64) -> Vec<Op> {
    let mut rng = SplitMix(seed);
    let len = 8 + pick(&mut rng, 57) as usize;
    (0..len).map(|_| draw(&mut rng)).collect()
}

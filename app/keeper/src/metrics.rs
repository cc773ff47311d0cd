//! Counters the keeper reports on a periodic log line.
use serde::Deserialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Metrics {
    pub ticks: u64,
    pub accounts_tracked: u64,
    pub liquidations_sent: u64,
    pub liquidations_landed: u64,
    pub liquidations_failed: u64,
    /// Landed liquidations that took the whole position.
    pub liquidations_full: u64,
    pub bankruptcies_resolved: u64,
    pub adl_batches: u64,
    pub losses_socialized: u64,
    pub fills: u64,
    /// Trigger orders fired (stop-loss / take-profit), with or without a fill in the same call.
    pub triggers: u64,
    pub cranks: u64,
    pub transport_errors: u64,
    /// Every transaction submitted (landed or refused).
    pub transactions_sent: u64,
    /// Keeper margin-account collateral now minus at start (fees, rewards, bounties), native units.
    pub profit: i64,
}

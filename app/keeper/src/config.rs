//! Keeper configuration: a TOML file, with command-line overrides applied by the binary.
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeeperConfig {
    #[serde(default = "default_rpc_url")]
    pub rpc_url: String,
    /// JSON keypair file (the usual solana CLI format); the keeper's margin account is its
    /// sub-account `sub_account_id`.
    #[serde(default)]
    pub keypair_path: String,
    #[serde(default)]
    pub sub_account_id: u16,
    #[serde(default)]
    pub modes: Modes,
    /// Pyth price-update account of each market (Pyth pull accounts are not derivable).
    #[serde(default)]
    pub markets: Vec<MarketOracle>,
    #[serde(default = "default_cu_limit")]
    pub compute_unit_limit: u32,
    #[serde(default)]
    pub priority_fee_micro_lamports: u64,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// Most ADL candidates per transaction.
    #[serde(default = "default_adl_batch")]
    pub adl_batch: usize,
    /// Seconds between metric log lines.
    #[serde(default = "default_metrics_secs")]
    pub metrics_interval_secs: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Modes {
    pub liquidator: bool,
    pub waterfall: bool,
    pub filler: bool,
    pub cranks: bool,
    /// Fires stop-loss / take-profit orders the oracle has reached (`trigger_order`).
    pub triggers: bool,
}

impl Default for Modes {
    fn default() -> Self {
        Self { liquidator: true, waterfall: true, filler: true, cranks: true, triggers: true }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MarketOracle {
    pub index: u16,
    pub pyth: String,
}

fn default_rpc_url() -> String {
    "http://127.0.0.1:8899".into()
}
fn default_cu_limit() -> u32 {
    400_000
}
fn default_poll_ms() -> u64 {
    400
}
fn default_adl_batch() -> usize {
    4
}
fn default_metrics_secs() -> u64 {
    30
}

impl KeeperConfig {
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

impl Default for KeeperConfig {
    fn default() -> Self {
        Self::from_toml("").expect("defaults parse")
    }
}

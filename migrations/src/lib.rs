//! Bootstrap: brings a cluster to the exchange and markets of a TOML file. Idempotent: what already
//! matches is left alone; a changed risk parameter goes through the governance path
//! (`update_risk_params`: tightening applies, loosening queues behind the timelock, a queued change
//! executes once ready). Returns what it did, one line per action.
use anchor_lang::prelude::Pubkey;
use margin_engine::instructions::ExchangeConfig;
use margin_engine::state::{Exchange, Market, OracleConfig, RiskParams};
use margin_engine_sdk::accounts::decode;
use margin_engine_sdk::chain::{Chain, ChainError};
use margin_engine_sdk::instructions as ix;
use margin_engine_sdk::pda;
use serde::Deserialize;
use solana_sdk::signature::{Keypair, Signer};

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BootstrapConfig {
    pub exchange: ExchangeSection,
    #[serde(default)]
    pub markets: Vec<MarketSection>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSection {
    pub collateral_mint: String,
    pub guardian: String,
    pub insurance_unstake_cooldown_slots: u64,
    pub insurance_revenue_floor: u64,
    pub risk_timelock_slots: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MarketSection {
    pub name: String,
    /// Pyth feed id, 64 hex characters.
    pub pyth_feed_id: String,
    #[serde(default)]
    pub switchboard_feed: Option<String>,
    pub max_staleness_slots_margin: u32,
    pub max_staleness_slots_trading: u32,
    pub max_staleness_seconds: u32,
    pub max_confidence_ratio: u32,
    /// Hard maximum price age (publish time) for any action, liquidation included.
    pub max_age_seconds_liquidation: u32,
    /// Most the Switchboard fallback may differ from the last valid price (ppm).
    pub fallback_max_divergence: u32,
    pub risk: RiskParams,
}

#[derive(Debug)]
pub enum BootstrapError {
    Config(String),
    Chain(ChainError),
}

impl std::fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BootstrapError::Config(e) => write!(f, "config: {e}"),
            BootstrapError::Chain(e) => write!(f, "chain: {e}"),
        }
    }
}

impl From<ChainError> for BootstrapError {
    fn from(e: ChainError) -> Self {
        BootstrapError::Chain(e)
    }
}

fn key(s: &str, what: &str) -> Result<Pubkey, BootstrapError> {
    s.parse().map_err(|_| BootstrapError::Config(format!("{what}: `{s}` is not a base58 public key")))
}

fn name_bytes(name: &str) -> Result<[u8; 16], BootstrapError> {
    if name.is_empty() || name.len() > 16 {
        return Err(BootstrapError::Config(format!("market name `{name}` must be 1 to 16 bytes")));
    }
    let mut out = [0u8; 16];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

impl MarketSection {
    pub fn oracle(&self) -> Result<OracleConfig, BootstrapError> {
        let hex = self.pyth_feed_id.trim_start_matches("0x");
        if hex.len() != 64 {
            return Err(BootstrapError::Config(format!("{}: pyth_feed_id must be 32 bytes of hex", self.name)));
        }
        let mut feed = [0u8; 32];
        for (i, b) in feed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| BootstrapError::Config(format!("{}: bad hex in pyth_feed_id", self.name)))?;
        }
        Ok(OracleConfig {
            pyth_feed_id: feed,
            switchboard_feed: match &self.switchboard_feed {
                Some(s) => key(s, "switchboard_feed")?,
                None => Pubkey::default(),
            },
            max_staleness_slots_margin: self.max_staleness_slots_margin,
            max_staleness_slots_trading: self.max_staleness_slots_trading,
            max_staleness_seconds: self.max_staleness_seconds,
            max_confidence_ratio: self.max_confidence_ratio,
            max_age_seconds_liquidation: self.max_age_seconds_liquidation,
            fallback_max_divergence: self.fallback_max_divergence,
        })
    }
}

pub fn parse(text: &str) -> Result<BootstrapConfig, BootstrapError> {
    toml::from_str(text).map_err(|e| BootstrapError::Config(e.to_string()))
}

/// Applies `config`; `governance` signs everything that needs the authority.
pub fn bootstrap<C: Chain>(
    chain: &mut C,
    config: &BootstrapConfig,
    governance: &Keypair,
) -> Result<Vec<String>, BootstrapError> {
    let mut actions = vec![];
    let gov = governance.pubkey();
    let guardian = key(&config.exchange.guardian, "guardian")?;
    match chain.account(&pda::exchange())? {
        None => {
            let mint = key(&config.exchange.collateral_mint, "collateral_mint")?;
            let cfg = ExchangeConfig {
                guardian,
                insurance_unstake_cooldown_slots: config.exchange.insurance_unstake_cooldown_slots,
                insurance_revenue_floor: config.exchange.insurance_revenue_floor,
                risk_timelock_slots: config.exchange.risk_timelock_slots,
            };
            chain.send(&[ix::initialize_exchange(chain.payer(), gov, mint, cfg)], &[governance])?;
            actions.push(format!("initialized exchange {} (collateral {mint})", pda::exchange()));
        }
        Some(data) => {
            let ex: Exchange = decode(&data).map_err(|e| BootstrapError::Config(format!("exchange account: {e:?}")))?;
            if ex.authority != gov {
                return Err(BootstrapError::Config(format!("governance is {}, not the signer {gov}", ex.authority)));
            }
            if ex.guardian != guardian {
                chain.send(&[ix::set_guardian(gov, guardian)], &[governance])?;
                actions.push(format!("guardian {} -> {guardian}", ex.guardian));
            }
        }
    }
    let clock = chain.clock()?;
    for (i, m) in config.markets.iter().enumerate() {
        let index = u16::try_from(i).map_err(|_| BootstrapError::Config("too many markets".into()))?;
        let oracle = m.oracle()?;
        let name = name_bytes(&m.name)?;
        match chain.account(&pda::market(index))? {
            None => {
                chain.send(&[ix::create_market(chain.payer(), gov, index, name, oracle, m.risk)], &[governance])?;
                actions.push(format!("created market {index} {}", m.name));
            }
            Some(data) => {
                let on_chain: Market =
                    decode(&data).map_err(|e| BootstrapError::Config(format!("market {index}: {e:?}")))?;
                if on_chain.name != name {
                    return Err(BootstrapError::Config(format!(
                        "market {index} is `{}` on chain, `{}` in the file: markets are matched by position",
                        String::from_utf8_lossy(&on_chain.name).trim_end_matches('\0'),
                        m.name
                    )));
                }
                if on_chain.oracle != oracle {
                    actions.push(format!("WARNING market {index} {}: oracle config differs from the file; the program has no instruction to change it", m.name));
                }
                if on_chain.risk == m.risk {
                    continue;
                }
                if on_chain.has_pending_risk == 1 && on_chain.pending_risk == m.risk {
                    if clock.slot >= on_chain.pending_risk_ready_slot {
                        chain.send(&[ix::execute_risk_update(index)], &[])?;
                        actions.push(format!("market {index} {}: executed the queued risk change", m.name));
                    } else {
                        actions.push(format!(
                            "market {index} {}: risk change queued until slot {}",
                            m.name, on_chain.pending_risk_ready_slot
                        ));
                    }
                    continue;
                }
                chain.send(&[ix::update_risk_params(gov, index, m.risk)], &[governance])?;
                let verdict = if m.risk.is_tightening_of(&on_chain.risk) {
                    "applied (tightening)"
                } else {
                    "queued behind the timelock (loosening)"
                };
                actions.push(format!("market {index} {}: risk parameters updated, {verdict}", m.name));
            }
        }
    }
    Ok(actions)
}

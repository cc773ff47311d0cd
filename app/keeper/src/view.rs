//! What the keeper knows: every market with its oracle price, every margin account, scored.
use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use margin_engine::health::{account_health, MarketSnapshot, PriceCache};
use margin_engine::math::margin::HealthReport;
use margin_engine::state::{MarginAccount, Market};
use margin_engine_sdk::accounts::decode;
use margin_engine_sdk::analytics::pyth_reading;
use margin_engine_sdk::chain::{Chain, ChainClock, ChainError};

use crate::config::KeeperConfig;

#[derive(Clone, Copy)]
pub struct MarketView {
    pub address: Pubkey,
    pub market: Market,
    pub pyth: Pubkey,
    /// Oracle price the keeper values with (None: no usable reading this tick).
    pub price: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scored {
    pub index: usize,
    pub health: HealthReport,
}

pub struct View {
    pub clock: ChainClock,
    pub markets: Vec<MarketView>,
    pub accounts: Vec<(Pubkey, MarginAccount)>,
    pub prices: PriceCache,
    /// `accounts` scored once at load (several bots may act on one view).
    scored: Vec<Scored>,
}

/// Tries of one read before a tick gives up on transport errors.
pub const READ_ATTEMPTS: usize = 3;

fn retried<T>(mut read: impl FnMut() -> Result<T, ChainError>) -> Result<T, ChainError> {
    let mut last = None;
    for _ in 0..READ_ATTEMPTS {
        match read() {
            Err(e) if e.is_transport() => last = Some(e),
            other => return other,
        }
    }
    Err(last.expect("READ_ATTEMPTS > 0"))
}

impl View {
    /// Loads everything in a few calls: all markets, all margin accounts (one program-account scan
    /// each, filtered by discriminator), and one read per configured oracle.
    /// A read that fails on transport is retried (up to `READ_ATTEMPTS`): one flaky call does
    /// not cost the whole tick.
    pub fn load<C: Chain>(chain: &mut C, config: &KeeperConfig) -> Result<Self, ChainError> {
        let clock = retried(|| chain.clock())?;
        let mut markets = Vec::new();
        for (address, data) in retried(|| chain.program_accounts(Market::DISCRIMINATOR))? {
            let Ok(market) = decode::<Market>(&data) else { continue };
            let Some(pyth) =
                config.markets.iter().find(|m| m.index == market.market_index).and_then(|m| m.pyth.parse().ok())
            else {
                continue;
            };
            let price = retried(|| chain.account(&pyth))?
                .and_then(|d| pyth_reading(&market, &d))
                .filter(|r| r.price > 0)
                .map(|r| r.price as u64);
            markets.push(MarketView { address, market, pyth, price });
        }
        markets.sort_by_key(|m| m.market.market_index);
        let mut prices = PriceCache::new();
        for m in &markets {
            if let Some(price) = m.price {
                if let Err(e) = prices.insert(MarketSnapshot::at_hypothetical_price(&m.market, price)) {
                    tracing::warn!(market = m.market.market_index, error = %e, "market left out of the price cache");
                }
            }
        }
        let accounts: Vec<(Pubkey, MarginAccount)> = retried(|| chain.program_accounts(MarginAccount::DISCRIMINATOR))?
            .into_iter()
            .filter_map(|(k, d)| decode::<MarginAccount>(&d).ok().map(|a| (k, a)))
            .collect();
        let scored = score_accounts(accounts.iter().map(|(_, a)| a), &prices);
        Ok(Self { clock, markets, accounts, prices, scored })
    }

    pub fn market(&self, index: u16) -> Option<&MarketView> {
        self.markets.iter().find(|m| m.market.market_index == index)
    }

    /// Accounts whose health can be computed, most underwater (maintenance) first.
    pub fn scored(&self) -> &[Scored] {
        &self.scored
    }
}

/// Scores accounts with the program's health function, most underwater first. Accounts holding a
/// market without a price this tick are skipped (and retried next tick).
pub fn score_accounts<'a>(accounts: impl IntoIterator<Item = &'a MarginAccount>, prices: &PriceCache) -> Vec<Scored> {
    let mut scored: Vec<Scored> = accounts
        .into_iter()
        .enumerate()
        .filter_map(|(index, a)| account_health(a, prices).ok().map(|health| Scored { index, health }))
        .collect();
    scored.sort_by_key(|s| s.health.maintenance_health);
    scored
}

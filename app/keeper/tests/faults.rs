//! The keeper under faults, against the in-process bank running the real program: RPC reads that
//! fail, sends that time out before or after landing, transactions dropped or delivered twice, and
//! the keeper restarted in the middle of the crash. It still unwinds every account within a
//! bounded number of ticks, never counts an action twice, and every unit stays accounted for.
mod common;

use margin_engine_keeper::config::{MarketOracle, Modes};
use margin_engine_keeper::{Keeper, KeeperConfig};
use margin_engine_sdk::chain::{Chain, ChainClock, ChainError};
use margin_engine_sdk::scenario::SplitMix;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;

/// What the fault layer did, by kind.
#[derive(Debug, Default)]
struct Faults {
    reads_failed: u64,
    sends_failed_unsent: u64,
    sends_dropped: u64,
    sends_timed_out_after_landing: u64,
    sends_duplicated: u64,
    /// `liquidate` instructions the bank accepted.
    liquidations_on_chain: u64,
    /// `liquidate` sends the keeper was told landed (one per send, a duplicate's second copy not
    /// reported): what its own count of landed liquidations must never exceed.
    liquidations_reported: u64,
}

/// A chain that misbehaves like a flaky RPC node, at `rate` percent per call.
struct Flaky<C: Chain> {
    inner: C,
    rng: SplitMix,
    rate: u64,
    faults: Faults,
}

impl<C: Chain> Flaky<C> {
    fn roll(&mut self) -> bool {
        self.rng.next_u64() % 100 < self.rate
    }

    fn count_liquidations(&mut self, ixs: &[anchor_lang::solana_program::instruction::Instruction]) {
        self.faults.liquidations_on_chain += liquidations_in(ixs);
    }
}

impl<C: Chain> Chain for Flaky<C> {
    fn clock(&mut self) -> Result<ChainClock, ChainError> {
        if self.roll() {
            self.faults.reads_failed += 1;
            return Err(ChainError::Transport("getSlot: connection reset".into()));
        }
        self.inner.clock()
    }

    fn account(&mut self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        if self.roll() {
            self.faults.reads_failed += 1;
            return Err(ChainError::Transport("getAccountInfo: 503".into()));
        }
        self.inner.account(key)
    }

    fn program_accounts(&mut self, discriminator: &[u8]) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        if self.roll() {
            self.faults.reads_failed += 1;
            return Err(ChainError::Transport("getProgramAccounts: timeout".into()));
        }
        self.inner.program_accounts(discriminator)
    }

    fn send(
        &mut self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<(), ChainError> {
        let result = self.send_with_faults(ixs, signers);
        if result.is_ok() {
            self.faults.liquidations_reported += liquidations_in(ixs);
        }
        result
    }

    fn payer(&self) -> Pubkey {
        self.inner.payer()
    }
}

fn liquidations_in(ixs: &[anchor_lang::solana_program::instruction::Instruction]) -> u64 {
    use anchor_lang::Discriminator;
    let liquidate = margin_engine::instruction::Liquidate::DISCRIMINATOR;
    ixs.iter().filter(|ix| ix.program_id == margin_engine::ID && ix.data.starts_with(liquidate)).count() as u64
}

impl<C: Chain> Flaky<C> {
    fn send_with_faults(
        &mut self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<(), ChainError> {
        if !self.roll() {
            let result = self.inner.send(ixs, signers);
            if result.is_ok() {
                self.count_liquidations(ixs);
            }
            return result;
        }
        match self.rng.next_u64() % 4 {
            0 => {
                self.faults.sends_failed_unsent += 1;
                Err(ChainError::Transport("sendTransaction: connection refused".into()))
            }
            1 => {
                // Accepted by the node, never forwarded to a leader: the confirmation times out.
                self.faults.sends_dropped += 1;
                Err(ChainError::Transport("confirmTransaction: blockhash expired".into()))
            }
            2 => {
                // Landed, but the confirmation never came back.
                self.faults.sends_timed_out_after_landing += 1;
                if self.inner.send(ixs, signers).is_ok() {
                    self.count_liquidations(ixs);
                }
                Err(ChainError::Transport("confirmTransaction: timeout".into()))
            }
            _ => {
                // Delivered twice (an RPC retry): the second copy must do no harm.
                self.faults.sends_duplicated += 1;
                let first = self.inner.send(ixs, signers);
                if first.is_ok() {
                    self.count_liquidations(ixs);
                }
                if self.inner.send(ixs, signers).is_ok() {
                    self.count_liquidations(ixs);
                }
                first
            }
        }
    }
}

type Env = TestEnv<NativeBackend>;

fn keeper_on(chain: Flaky<Env>, trader: &Trader) -> Keeper<Flaky<Env>> {
    let config = KeeperConfig {
        markets: vec![MarketOracle { index: 0, pyth: chain.inner.markets[0].pyth.to_string() }],
        modes: Modes { liquidator: true, waterfall: true, filler: false, cranks: true, triggers: false },
        ..KeeperConfig::default()
    };
    Keeper::new(chain, config, Keypair::try_from(&trader.keypair.0[..]).unwrap())
}

#[test]
fn the_keeper_unwinds_a_crash_through_rpc_faults_and_a_restart() {
    let common::Crash { env, longs, keeper_trader } = common::six_levered_longs();
    let chain = Flaky { inner: env, rng: SplitMix(20), rate: 25, faults: Faults::default() };
    let mut keeper = keeper_on(chain, &keeper_trader);

    // The crash: −2% a slot down to $76 (12 slots), then flat. One tick per slot; a tick that
    // fails on transport is simply retried next slot, as the binary does after its backoff.
    const CRASH_TICKS: u64 = 12;
    const BOUND_TICKS: u64 = 40;
    let (mut price, mut transport_failures, mut landed_before_restart) = (100_000_000u64, 0u64, 0u64);
    let mut done_at = None;
    for tick in 0..CRASH_TICKS + BOUND_TICKS {
        if price > 76_000_000 {
            price -= 2_000_000;
        }
        keeper.chain.inner.advance_slots(1);
        keeper.chain.inner.set_price(0, price as i64);
        if keeper.tick().is_err() {
            transport_failures += 1;
        }
        keeper.chain.inner.check_conservation().unwrap();
        if tick == CRASH_TICKS / 2 {
            // Restart mid-crash: a fresh process with nothing but its config and the chain.
            landed_before_restart = keeper.metrics.liquidations_landed;
            let chain = keeper.chain;
            keeper = keeper_on(chain, &keeper_trader);
        }
        if tick >= CRASH_TICKS && common::nothing_left(&mut keeper.chain.inner, &longs, price) {
            done_at = Some(tick);
            break;
        }
    }
    let f = &keeper.chain.faults;
    let counted = landed_before_restart + keeper.metrics.liquidations_landed;
    println!(
        "faults: {} reads failed, sends: {} failed unsent, {} dropped, {} timed out after landing, {} duplicated; \
         {} ticks failed on transport; liquidations: {} on chain, {} reported landed, {} counted by the keeper; \
         unwound {} ticks after the crash",
        f.reads_failed,
        f.sends_failed_unsent,
        f.sends_dropped,
        f.sends_timed_out_after_landing,
        f.sends_duplicated,
        transport_failures,
        f.liquidations_on_chain,
        f.liquidations_reported,
        counted,
        done_at.map_or(-1, |t| (t - CRASH_TICKS) as i64)
    );
    assert!(done_at.is_some(), "every account unwound within {BOUND_TICKS} ticks of the crash's end");
    // Every kind of fault happened, and the keeper counted no action twice.
    assert!(f.reads_failed > 0 && f.sends_failed_unsent > 0 && f.sends_dropped > 0);
    assert!(f.sends_duplicated > 0 && f.sends_timed_out_after_landing > 0);
    assert!(
        counted <= f.liquidations_reported && f.liquidations_reported <= f.liquidations_on_chain,
        "the keeper counted {counted} landed, was told {} landed, the chain took {}",
        f.liquidations_reported,
        f.liquidations_on_chain
    );
    assert!(f.liquidations_on_chain >= 6, "partial liquidations happened");
    let exchange = keeper.chain.inner.exchange();
    assert_eq!(exchange.bankrupt_accounts, 0, "no bankruptcy left unresolved");
}

//! Instruction fuzzing: every instruction of the program, built valid by the SDK from a live
//! exchange (the invariants runner's [`Fixture`], with positions, orders and stakes from a few
//! random operations), then mutated the way an attacker who chooses every byte and every account
//! would: instruction data flipped, truncated, extended, replaced or another instruction's; account
//! lists substituted, duplicated, dropped, extended, writable and signer flags changed. Each
//! mutated transaction goes through the real program; a refusal must be named
//! ([`crate::refusal`]) and leave every account as it was; an accepted one must keep every
//! invariant ([`Fixture::check_step`]). A panic (natively `ProgramFailedToComplete`) is a crash.
//!
//! A driver of our own on the seeded generator rather than Trident (which targets older Anchor
//! versions) or cargo-fuzz (coverage-guided, but libFuzzer needs the pinned nightly and a
//! sanitizer build of the whole runtime, and cannot keep a bank across inputs): structure-aware
//! mutation of valid instructions reaches the handlers, which random bytes rarely do.
use std::collections::BTreeMap;

use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use margin_engine::instructions::{ExchangeConfig, PlaceAndTakeArgs, PlaceOrderArgs};
use margin_engine::state::order_trigger;
use margin_engine_sdk::instructions::{self as ix, Fill};
use margin_engine_sdk::pda;
use margin_engine_sdk::scenario::SplitMix;

use crate::backend::{Backend, RawAccount, RawKeypair, TxError};
use crate::env::*;
use crate::invariants::{ops, Fixture};
use crate::refusal::classify;

/// How many of the program's instructions the builder covers (all of them).
pub const INSTRUCTIONS: u64 = 34;

/// Counts over a fuzz run.
#[derive(Clone, Debug, Default)]
pub struct FuzzStats {
    pub executions: u64,
    pub accepted: u64,
    /// Refused by the program (or Anchor, or the token program) with a named error.
    pub refused_named: u64,
    /// Refused by the runtime before the program ran (e.g. a read-only account written, an
    /// executable account marked writable): the program never saw these.
    pub refused_by_runtime: u64,
    /// Executions per instruction (by builder index).
    pub by_instruction: BTreeMap<u64, u64>,
    pub refusals: BTreeMap<String, u64>,
}

impl FuzzStats {
    pub fn merge(&mut self, other: &FuzzStats) {
        self.executions += other.executions;
        self.accepted += other.accepted;
        self.refused_named += other.refused_named;
        self.refused_by_runtime += other.refused_by_runtime;
        for (k, v) in &other.by_instruction {
            *self.by_instruction.entry(*k).or_default() += v;
        }
        for (k, v) in &other.refusals {
            *self.refusals.entry(k.clone()).or_default() += v;
        }
    }
}

/// A finding: which execution of which chunk, the instruction sent, and what went wrong.
#[derive(Clone, Debug)]
pub struct Crash {
    pub chunk: u64,
    pub execution: u64,
    pub instruction: String,
    pub what: String,
}

fn pick(rng: &mut SplitMix, n: u64) -> u64 {
    rng.next_u64() % n.max(1)
}

/// An amount an attacker would try: extremes, off-by-ones, or ordinary sizes.
fn amount(rng: &mut SplitMix) -> u64 {
    match pick(rng, 8) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,
        3 => i64::MAX as u64,
        4 => (i64::MAX as u64) + 1,
        _ => pick(rng, 50_000 * USDC),
    }
}

fn signed(rng: &mut SplitMix) -> i64 {
    match pick(rng, 5) {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => -(pick(rng, 1_000_000) as i64),
        _ => pick(rng, 1_000_000) as i64,
    }
}

struct Built {
    ix: Instruction,
    /// Keypairs the fuzzer holds that the instruction may need.
    signers: Vec<RawKeypair>,
}

impl<B: Backend> Fixture<B> {
    /// Every key the fuzzer may substitute into an account slot.
    pub fn pool(&self) -> Vec<Pubkey> {
        let mut keys = vec![
            pda::exchange(),
            pda::collateral_vault(),
            pda::insurance_vault(),
            pda::program_data(),
            self.env.collateral_mint,
            key(&self.env.governance),
            key(&self.env.guardian),
            anchor_spl::token::spl_token::ID,
            anchor_lang::solana_program::system_program::ID,
            margin_engine::ID,
            pyth_solana_receiver_sdk::ID,
            Pubkey::new_unique(),
        ];
        for m in &self.env.markets {
            keys.extend([m.address, m.pyth]);
            keys.extend(m.switchboard);
        }
        for t in &self.everyone {
            keys.extend([t.owner, t.margin_account, t.token_account, pda::insurance_stake(&t.owner)]);
        }
        keys
    }

    fn keypairs(&self) -> Vec<RawKeypair> {
        let mut all = vec![self.env.governance.clone(), self.env.guardian.clone(), self.env.payer.clone()];
        all.extend(self.everyone.iter().map(|t| t.keypair.clone()));
        all
    }

    fn order_args(&self, rng: &mut SplitMix, market: u16) -> PlaceOrderArgs {
        let price = self.price(market);
        PlaceOrderArgs {
            market_index: if pick(rng, 10) == 0 { pick(rng, 5) as u16 } else { market },
            side: pick(rng, 3) as u8,
            price: match pick(rng, 4) {
                0 => amount(rng),
                _ => price - price % 1_000,
            },
            base_amount: match pick(rng, 3) {
                0 => amount(rng),
                _ => (1 + pick(rng, 50)) * BASE as u64 / 100,
            },
            reduce_only: pick(rng, 2) == 0,
            post_only: pick(rng, 4) == 0,
            expiry_slot: if pick(rng, 3) == 0 { amount(rng) } else { 0 },
            client_order_id: rng.next_u64(),
            kind: pick(rng, 4) as u8,
            trigger: pick(rng, 4) as u8,
            trigger_price: if pick(rng, 2) == 0 { amount(rng) } else { 0 },
            peg_offset: if pick(rng, 3) == 0 { signed(rng) } else { 0 },
        }
    }

    /// A well-formed instruction of kind `which` (0..INSTRUCTIONS) with random arguments, built
    /// by the SDK against the live exchange.
    fn build(&mut self, which: u64, rng: &mut SplitMix) -> Built {
        let n = self.everyone.len() as u64;
        let t = self.everyone[pick(rng, n) as usize].clone();
        let other = self.everyone[pick(rng, n) as usize].clone();
        let m = pick(rng, self.env.markets.len() as u64) as u16;
        let oracles = self.env.oracles_of(m);
        let governance = self.env.governance.clone();
        let gov = key(&governance);
        let payer = key(&self.env.payer);
        let account = self.env.account_exists(t.margin_account).then(|| self.env.margin_account(t.margin_account));
        let other_account =
            self.env.account_exists(other.margin_account).then(|| self.env.margin_account(other.margin_account));
        let order_id = account
            .as_ref()
            .and_then(|a| {
                let ids: Vec<u64> = a.orders.iter().filter(|o| !o.is_empty()).map(|o| o.order_id).collect();
                (!ids.is_empty()).then(|| ids[pick(rng, ids.len() as u64) as usize])
            })
            .unwrap_or_else(|| pick(rng, 20));
        let other_order = other_account
            .as_ref()
            .and_then(|a| a.orders.iter().find(|o| !o.is_empty()).map(|o| o.order_id))
            .unwrap_or(0);
        let groups = |f: &Self, accounts: &[&margin_engine::state::MarginAccount]| {
            ix::market_groups(accounts, Some(m), f.env.oracles())
        };
        let both: Vec<&margin_engine::state::MarginAccount> = account.iter().chain(other_account.iter()).collect();
        let signer = |k: &RawKeypair| vec![k.clone()];
        match which {
            0 => Built {
                ix: ix::initialize_exchange(
                    payer,
                    gov,
                    self.env.collateral_mint,
                    ExchangeConfig {
                        guardian: t.owner,
                        insurance_unstake_cooldown_slots: amount(rng),
                        insurance_revenue_floor: amount(rng),
                        risk_timelock_slots: amount(rng),
                    },
                ),
                signers: signer(&governance),
            },
            1 => {
                let oracle = default_oracle_config([9; 32]);
                let mut risk = default_risk();
                risk.initial_margin_ratio = pick(rng, 1_200_000) as u32;
                risk.max_open_interest = amount(rng);
                Built {
                    ix: ix::create_market(payer, gov, pick(rng, 5) as u16, market_name("FUZZ-PERP"), oracle, risk),
                    signers: signer(&governance),
                }
            }
            2 => Built {
                ix: ix::create_margin_account(payer, t.owner, pick(rng, 3) as u16),
                signers: signer(&t.keypair),
            },
            3 => Built { ix: ix::set_delegate(t.owner, t.margin_account, other.owner), signers: signer(&t.keypair) },
            4 => Built {
                ix: ix::deposit(t.owner, t.margin_account, t.token_account, amount(rng)),
                signers: signer(&t.keypair),
            },
            5 => {
                let remaining =
                    account.as_ref().map(|a| ix::health_accounts(a, self.env.oracles())).unwrap_or_default();
                Built {
                    ix: ix::withdraw(t.owner, t.margin_account, t.token_account, amount(rng), remaining),
                    signers: signer(&t.keypair),
                }
            }
            6 => Built { ix: ix::close_margin_account(t.owner, t.margin_account), signers: signer(&t.keypair) },
            7 => {
                let args = self.order_args(rng, m);
                let remaining = groups(self, &account.iter().collect::<Vec<_>>());
                Built {
                    ix: ix::place_order(t.owner, t.margin_account, oracles, args, remaining),
                    signers: signer(&t.keypair),
                }
            }
            8 => Built { ix: ix::cancel_order(t.owner, t.margin_account, order_id), signers: signer(&t.keypair) },
            9 => Built {
                ix: ix::cancel_all_orders(t.owner, t.margin_account, (pick(rng, 2) == 0).then_some(m)),
                signers: signer(&t.keypair),
            },
            10 => {
                Built { ix: ix::prune_expired_orders(other.owner, t.margin_account), signers: signer(&other.keypair) }
            }
            11 => {
                let filler = self.everyone[pick(rng, n) as usize].clone();
                let fill = Fill {
                    market_index: m,
                    taker: t.margin_account,
                    taker_order_id: order_id,
                    maker: other.margin_account,
                    maker_order_id: other_order,
                    max_base_amount: amount(rng),
                };
                Built {
                    ix: ix::fill_orders(filler.owner, filler.margin_account, oracles, fill, groups(self, &both)),
                    signers: signer(&filler.keypair),
                }
            }
            12 => {
                let args = PlaceAndTakeArgs {
                    order: PlaceOrderArgs { trigger: order_trigger::NONE, ..self.order_args(rng, m) },
                    time_in_force: pick(rng, 4) as u8,
                    post_only_slide: pick(rng, 2) == 0,
                    maker_order_ids: (0..pick(rng, 6)).map(|_| other_order).collect(),
                };
                let makers = vec![other.margin_account; args.maker_order_ids.len()];
                Built {
                    ix: ix::place_and_take(t.owner, t.margin_account, oracles, args, &makers, groups(self, &both)),
                    signers: signer(&t.keypair),
                }
            }
            13 => Built {
                ix: ix::trigger_order(other.owner, other.margin_account, t.margin_account, m, oracles, order_id),
                signers: signer(&other.keypair),
            },
            14 => Built {
                ix: ix::liquidate(
                    other.owner,
                    other.margin_account,
                    t.margin_account,
                    m,
                    oracles,
                    amount(rng),
                    groups(self, &both),
                ),
                signers: signer(&other.keypair),
            },
            15 => Built { ix: ix::open_insurance_stake(payer, t.owner), signers: signer(&t.keypair) },
            16 => Built { ix: ix::stake_insurance(t.owner, t.token_account, amount(rng)), signers: signer(&t.keypair) },
            17 => Built { ix: ix::request_unstake(t.owner, amount(rng)), signers: signer(&t.keypair) },
            18 => Built { ix: ix::unstake_insurance(t.owner, t.token_account), signers: signer(&t.keypair) },
            19 => Built {
                ix: ix::withdraw_protocol_revenue(gov, t.token_account, amount(rng)),
                signers: signer(&governance),
            },
            20 => Built {
                ix: ix::resolve_bankruptcy(
                    other.owner,
                    other.margin_account,
                    t.margin_account,
                    m,
                    oracles,
                    groups(self, &account.iter().collect::<Vec<_>>()),
                ),
                signers: signer(&other.keypair),
            },
            21 => Built {
                ix: ix::auto_deleverage(
                    other.owner,
                    t.margin_account,
                    m,
                    oracles,
                    &[other.margin_account],
                    groups(self, &account.iter().collect::<Vec<_>>()),
                ),
                signers: signer(&other.keypair),
            },
            22 => Built { ix: ix::socialize_loss(other.owner, t.margin_account, m), signers: signer(&other.keypair) },
            23 => Built { ix: ix::refresh_market(m, oracles), signers: vec![] },
            24 => {
                let by = if pick(rng, 2) == 0 { governance.clone() } else { self.env.guardian.clone() };
                Built { ix: ix::pause_operations(key(&by), rng.next_u64() as u16), signers: signer(&by) }
            }
            25 => Built { ix: ix::resume_operations(gov, rng.next_u64() as u16), signers: signer(&governance) },
            26 => Built { ix: ix::set_market_reduce_only(gov, m, pick(rng, 2) == 0), signers: signer(&governance) },
            27 => Built { ix: ix::propose_authority(gov, t.owner), signers: signer(&governance) },
            28 => Built { ix: ix::accept_authority(t.owner), signers: signer(&t.keypair) },
            29 => Built { ix: ix::set_guardian(gov, t.owner), signers: signer(&governance) },
            30 => {
                let mut risk = self.env.market(m).risk;
                let bytes = bytemuck::bytes_of_mut(&mut risk);
                let at = pick(rng, bytes.len() as u64) as usize;
                bytes[at] = rng.next_u64() as u8;
                Built { ix: ix::update_risk_params(gov, m, risk), signers: signer(&governance) }
            }
            31 => Built { ix: ix::execute_risk_update(m), signers: vec![] },
            32 => Built { ix: ix::cancel_risk_update(gov, m), signers: signer(&governance) },
            _ => Built { ix: ix::update_funding(m, oracles), signers: vec![] },
        }
    }

    /// Mutates a well-formed instruction: none, one or several of the attacker's moves.
    fn mutate(&self, built: &mut Built, rng: &mut SplitMix, discriminators: &[Vec<u8>]) {
        let pool = self.pool();
        let rounds = pick(rng, 4);
        for _ in 0..rounds {
            let ix = &mut built.ix;
            let n = ix.accounts.len() as u64;
            match pick(rng, 10) {
                0 if !ix.data.is_empty() => {
                    let at = pick(rng, ix.data.len() as u64) as usize;
                    ix.data[at] ^= 1 << pick(rng, 8);
                }
                1 => ix.data.truncate(pick(rng, ix.data.len() as u64 + 1) as usize),
                2 => ix.data.extend((0..1 + pick(rng, 16)).map(|_| rng.next_u64() as u8)),
                3 => {
                    // Another instruction's discriminator over this one's arguments.
                    let d = &discriminators[pick(rng, discriminators.len() as u64) as usize];
                    let len = d.len().min(ix.data.len());
                    ix.data[..len].copy_from_slice(&d[..len]);
                }
                4 if n > 0 => {
                    let at = pick(rng, n) as usize;
                    ix.accounts[at].pubkey = pool[pick(rng, pool.len() as u64) as usize];
                }
                5 if n > 1 => {
                    let (a, b) = (pick(rng, n) as usize, pick(rng, n) as usize);
                    ix.accounts[a].pubkey = ix.accounts[b].pubkey;
                }
                6 if n > 0 => ix.accounts.truncate(pick(rng, n) as usize),
                7 => ix.accounts.push(AccountMeta {
                    pubkey: pool[pick(rng, pool.len() as u64) as usize],
                    is_signer: false,
                    is_writable: pick(rng, 2) == 0,
                }),
                8 if n > 0 => {
                    let at = pick(rng, n) as usize;
                    ix.accounts[at].is_writable = !ix.accounts[at].is_writable;
                }
                9 if n > 0 => {
                    let at = pick(rng, n) as usize;
                    ix.accounts[at].is_signer = !ix.accounts[at].is_signer;
                }
                _ => {}
            }
        }
        // Only keys whose keypair the fuzzer holds can sign: an attacker cannot forge the rest.
        let held = self.keypairs();
        let holds = |k: &Pubkey| held.iter().any(|h| key(h) == *k);
        for meta in built.ix.accounts.iter_mut() {
            if meta.is_signer && !holds(&meta.pubkey) {
                meta.is_signer = false;
            }
        }
        let needed: Vec<Pubkey> = built.ix.accounts.iter().filter(|m| m.is_signer).map(|m| m.pubkey).collect();
        let payer = key(&self.env.payer);
        built.signers = held.into_iter().filter(|h| needed.contains(&key(h)) && key(h) != payer).collect();
    }

    /// What an accepted call may not do to an account whose owner did not sign: take from its
    /// wallet, touch its insurance stake, or, unless the instruction is one anyone may call on
    /// others' accounts (fills, triggers, prunes, liquidation and the waterfall), change its margin
    /// account (its delegate signing counts as the owner for that); nor change who governs
    /// without the authority (or the proposed one) signing. Conservation cannot see a transfer
    /// between two accounts; this can. `before` and `after` are snapshots of `keys`.
    pub fn taken_without_signature(
        &self,
        ix: &Instruction,
        signed: &[Pubkey],
        keys: &[Pubkey],
        before: &[Option<RawAccount>],
        after: &[Option<RawAccount>],
    ) -> Option<String> {
        use anchor_lang::Discriminator;
        use margin_engine::instruction as i;
        let at = |k: &Pubkey| keys.iter().position(|p| p == k);
        let data_of = |snapshot: &[Option<RawAccount>], k: &Pubkey| at(k).and_then(|n| snapshot[n].clone());
        let amount = |a: &Option<RawAccount>| {
            a.as_ref()
                .and_then(|a| anchor_spl::token::spl_token::state::Account::unpack(&a.data).ok())
                .map(|t| t.amount)
        };
        let on_others: [&[u8]; 8] = [
            i::FillOrders::DISCRIMINATOR,
            i::PlaceAndTake::DISCRIMINATOR,
            i::TriggerOrder::DISCRIMINATOR,
            i::PruneExpiredOrders::DISCRIMINATOR,
            i::Liquidate::DISCRIMINATOR,
            i::ResolveBankruptcy::DISCRIMINATOR,
            i::AutoDeleverage::DISCRIMINATOR,
            i::SocializeLoss::DISCRIMINATOR,
        ];
        let acts_on_others = on_others.iter().any(|d| ix.data.starts_with(d));
        for t in &self.everyone {
            if signed.contains(&t.owner) {
                continue;
            }
            let wallet_before = amount(&data_of(before, &t.token_account)).unwrap_or(0);
            let wallet_after = amount(&data_of(after, &t.token_account)).unwrap_or(0);
            if wallet_after < wallet_before {
                return Some(format!(
                    "{} left {}'s wallet without its signature",
                    wallet_before - wallet_after,
                    t.owner
                ));
            }
            let stake = pda::insurance_stake(&t.owner);
            if data_of(before, &stake) != data_of(after, &stake) {
                return Some(format!("{}'s insurance stake changed without its signature", t.owner));
            }
            let account_before = data_of(before, &t.margin_account);
            let delegate = account_before
                .as_ref()
                .and_then(|a| margin_engine_sdk::accounts::margin_account(&a.data).ok())
                .map(|a| a.delegate);
            let delegate_signed = delegate.is_some_and(|d| d != Pubkey::default() && signed.contains(&d));
            if !acts_on_others && !delegate_signed && account_before != data_of(after, &t.margin_account) {
                return Some(format!("{}'s margin account changed without its signature", t.owner));
            }
        }
        let governance = |snapshot: &[Option<RawAccount>]| {
            data_of(snapshot, &pda::exchange())
                .and_then(|a| margin_engine_sdk::accounts::exchange(&a.data).ok())
                .map(|e| (e.authority, e.pending_authority, e.guardian))
        };
        if let (Some(b), Some(a)) = (governance(before), governance(after)) {
            if a != b && !signed.contains(&b.0) && !signed.contains(&b.1) {
                return Some("governance or the guardian changed without the authority's signature".to_string());
            }
        }
        None
    }

    pub fn snapshot(&mut self, keys: &[Pubkey]) -> Vec<Option<RawAccount>> {
        keys.iter().map(|k| self.env.backend.account(&k.to_bytes())).collect()
    }
}

/// The 8-byte discriminators of every instruction, for swapping one for another.
fn discriminators() -> Vec<Vec<u8>> {
    use anchor_lang::Discriminator;
    use margin_engine::instruction as i;
    vec![
        i::Deposit::DISCRIMINATOR.to_vec(),
        i::Withdraw::DISCRIMINATOR.to_vec(),
        i::PlaceOrder::DISCRIMINATOR.to_vec(),
        i::FillOrders::DISCRIMINATOR.to_vec(),
        i::Liquidate::DISCRIMINATOR.to_vec(),
        i::ResolveBankruptcy::DISCRIMINATOR.to_vec(),
        i::AutoDeleverage::DISCRIMINATOR.to_vec(),
        i::SocializeLoss::DISCRIMINATOR.to_vec(),
        i::UnstakeInsurance::DISCRIMINATOR.to_vec(),
        i::WithdrawProtocolRevenue::DISCRIMINATOR.to_vec(),
        i::UpdateRiskParams::DISCRIMINATOR.to_vec(),
        i::CloseMarginAccount::DISCRIMINATOR.to_vec(),
    ]
}

/// Runs `executions` fuzzed instructions on one fresh exchange (chunk `chunk` of seed `seed`),
/// after a few random operations have given it positions, orders and stakes. Stops at the first
/// crash and returns it.
pub fn run_chunk<B: Backend>(
    backend: B,
    seed: u64,
    chunk: u64,
    executions: u64,
    stats: &mut FuzzStats,
) -> Option<Crash> {
    let mut fixture = Fixture::new(backend);
    let mut rng = SplitMix(seed ^ chunk.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // A live exchange first: trades, orders, price moves (refusals here are the runner's business).
    for op in ops::sequence(rng.next_u64()).iter().take(24) {
        if let Err(what) = fixture.apply(op) {
            return Some(Crash { chunk, execution: 0, instruction: format!("setup {op:?}"), what });
        }
    }
    let discriminators = discriminators();
    for execution in 0..executions {
        let which = pick(&mut rng, INSTRUCTIONS);
        let mut built = fixture.build(which, &mut rng);
        if pick(&mut rng, 5) != 0 {
            fixture.mutate(&mut built, &mut rng, &discriminators);
        }
        *stats.by_instruction.entry(which).or_default() += 1;
        stats.executions += 1;
        let keys = fixture.pool();
        let before = fixture.snapshot(&keys);
        let signers: Vec<&RawKeypair> = built.signers.iter().collect();
        let result = fixture.env.send(built.ix.clone(), &signers);
        let described = || format!("instruction {which}: {:?}", built.ix);
        match result {
            Ok(_) => {
                stats.accepted += 1;
                let after = fixture.snapshot(&keys);
                let mut signed: Vec<Pubkey> = built.signers.iter().map(key).collect();
                signed.push(key(&fixture.env.payer));
                let theft = fixture.taken_without_signature(&built.ix, &signed, &keys, &before, &after);
                if let Some(what) = theft.or_else(|| fixture.check_step().err()) {
                    return Some(Crash { chunk, execution, instruction: described(), what });
                }
            }
            Err(e) => {
                match classify(&e) {
                    Ok((_, name)) => {
                        stats.refused_named += 1;
                        *stats.refusals.entry(name).or_default() += 1;
                    }
                    Err(text) if is_runtime_refusal(&e) => {
                        stats.refused_by_runtime += 1;
                        *stats.refusals.entry(format!("runtime: {}", short(&text))).or_default() += 1;
                    }
                    Err(text) => {
                        return Some(Crash {
                            chunk,
                            execution,
                            instruction: described(),
                            what: format!("unnamed refusal: {text}"),
                        })
                    }
                }
                let after = fixture.snapshot(&keys);
                for (k, (b, a)) in keys.iter().zip(before.iter().zip(after.iter())) {
                    if b != a && *k != key(&fixture.env.payer) {
                        return Some(Crash {
                            chunk,
                            execution,
                            instruction: described(),
                            what: format!("refused ({e:?}) but account {k} changed"),
                        });
                    }
                }
            }
        }
    }
    None
}

/// Refusals the runtime makes before our program runs (the account list breaks a runtime rule).
/// A failure inside the program (a panic: `ProgramFailedToComplete`) is never one of these.
fn is_runtime_refusal(error: &TxError) -> bool {
    let TxError::Other(text) = error else { return false };
    // Transaction-level refusals only: an `InstructionError` means the program ran (and, for
    // `ReadonlyDataModified` and its kind, wrote what it must not: a missing account check).
    const RUNTIME: [&str; 4] =
        ["InvalidAccountForFee", "AccountLoadedTwice", "InvalidWritableAccount", "ProgramAccountNotFound"];
    !text.starts_with("InstructionError") && RUNTIME.iter().any(|r| text.contains(r))
}

fn short(text: &str) -> String {
    text.split(['(', ' ', ',']).filter(|w| !w.is_empty()).last().unwrap_or(text).trim_end_matches(')').to_string()
}

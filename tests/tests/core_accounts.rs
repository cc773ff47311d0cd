//! Issue 2 through the real program: exchange, markets, margin accounts, deposit, withdraw, close.
use anchor_lang::prelude::Pubkey;
use margin_engine::error::ErrorCode;
use margin_engine_sdk::instructions as ix;
use margin_engine_sdk::pda;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;

fn env() -> TestEnv<TestBackend> {
    TestEnv::new(TestBackend::new())
}

/// (wallet, vault, account collateral): what a rejected instruction must leave unchanged.
fn balances(env: &mut TestEnv<TestBackend>, t: &Trader) -> (u64, u64, i64) {
    (
        env.token_balance(t.token_account),
        env.token_balance(pda::collateral_vault()),
        env.margin_account(t.margin_account).collateral,
    )
}

#[test]
fn exchange_is_initialised_with_pda_vaults() {
    let mut env = env();
    let ex = env.exchange();
    assert_eq!(ex.authority, key(&env.governance));
    assert_eq!(ex.guardian, key(&env.guardian));
    assert_eq!(ex.collateral_mint, env.collateral_mint);
    assert_eq!(ex.collateral_vault, pda::collateral_vault());
    assert_eq!(ex.insurance_vault, pda::insurance_vault());
    assert_eq!((ex.market_count, ex.total_collateral, ex.collateral_decimals), (0, 0, 6));
    assert_eq!(env.token_balance(pda::collateral_vault()), 0);
    // A second initialisation cannot take over the singleton.
    let config = margin_engine::instructions::ExchangeConfig {
        guardian: key(&env.guardian),
        insurance_unstake_cooldown_slots: 1,
        insurance_revenue_floor: 0,
        risk_timelock_slots: 1,
    };
    let again = ix::initialize_exchange(key(&env.payer), key(&env.guardian), env.collateral_mint, config);
    let guardian = env.guardian.clone();
    assert!(env.send(again, &[&guardian]).is_err());
    assert_eq!(env.exchange().authority, key(&env.governance));
}

#[test]
fn deposit_withdraw_round_trip() {
    let mut env = env();
    let t = env.new_trader(1_000 * USDC);
    env.deposit(&t, 600 * USDC).unwrap();
    assert_eq!(balances(&mut env, &t), (400 * USDC, 600 * USDC, 600 * USDC as i64));
    env.assert_conservation();
    env.withdraw(&t, 250 * USDC).unwrap();
    assert_eq!(balances(&mut env, &t), (650 * USDC, 350 * USDC, 350 * USDC as i64));
    env.assert_conservation();
    env.withdraw(&t, 350 * USDC).unwrap();
    assert_eq!(balances(&mut env, &t), (1_000 * USDC, 0, 0));
    env.assert_conservation();
}

#[test]
fn anyone_may_deposit_into_any_account_from_their_own_tokens() {
    let mut env = env();
    let t = env.new_trader(0);
    let friend = env.new_trader(100 * USDC);
    let ix = ix::deposit(friend.owner, t.margin_account, friend.token_account, 40 * USDC);
    env.send(ix, &[&friend.keypair]).unwrap();
    assert_eq!(env.margin_account(t.margin_account).collateral, 40 * USDC as i64);
    assert_eq!(env.token_balance(friend.token_account), 60 * USDC);
    env.assert_conservation();
}

#[test]
fn deposit_rejections_change_nothing() {
    let mut env = env();
    let t = env.new_trader(1_000 * USDC);
    let other = env.new_trader(1_000 * USDC);
    env.deposit(&t, 100 * USDC).unwrap();
    let before = balances(&mut env, &t);

    assert_eq!(env.deposit(&t, 0), Err(program_error(ErrorCode::ZeroAmount)));

    // Tokens from someone else's account.
    let ix = ix::deposit(t.owner, t.margin_account, other.token_account, 10 * USDC);
    assert_eq!(env.send(ix, &[&t.keypair]), Err(program_error(ErrorCode::SourceNotOwnedBySigner)));

    // Right owner, wrong mint.
    let foreign_mint = Pubkey::new_unique();
    env.write_mint(foreign_mint, 6);
    let wrong_mint_account = Pubkey::new_unique();
    env.write_token_account(wrong_mint_account, foreign_mint, t.owner, 50 * USDC);
    let ix = ix::deposit(t.owner, t.margin_account, wrong_mint_account, 10 * USDC);
    assert_eq!(env.send(ix, &[&t.keypair]), Err(program_error(ErrorCode::WrongCollateralMint)));

    // A token account passed as the vault that is not the vault.
    let mut ix = ix::deposit(t.owner, t.margin_account, t.token_account, 10 * USDC);
    ix.accounts[3].pubkey = other.token_account;
    assert_eq!(env.send(ix, &[&t.keypair]), Err(program_error(ErrorCode::WrongVault)));

    // A "token account" not owned by the token program.
    let fake = Pubkey::new_unique();
    let data = env.raw_data(t.token_account);
    env.set_raw(fake, data, Pubkey::new_unique());
    let ix = ix::deposit(t.owner, t.margin_account, fake, 10 * USDC);
    assert_eq!(
        env.send(ix, &[&t.keypair]),
        Err(anchor_error(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram))
    );

    // A market account where the margin account belongs.
    env.add_market("SOL-PERP", 100 * USDC as i64, default_risk());
    let ix = ix::deposit(t.owner, pda::market(0), t.token_account, 10 * USDC);
    assert_eq!(
        env.send(ix, &[&t.keypair]),
        Err(anchor_error(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch))
    );

    // A forged exchange address fails the PDA seeds check.
    let mut ix = ix::deposit(t.owner, t.margin_account, t.token_account, 10 * USDC);
    ix.accounts[1].pubkey = pda::market(0);
    assert!(env.send(ix, &[&t.keypair]).is_err());

    // Signer missing: the depositor's signature is required.
    let mut ix = ix::deposit(t.owner, t.margin_account, t.token_account, 10 * USDC);
    ix.accounts[0].is_signer = false;
    assert_eq!(env.send(ix, &[]), Err(anchor_error(anchor_lang::error::ErrorCode::AccountNotSigner)));

    assert_eq!(balances(&mut env, &t), before);
    env.assert_conservation();
}

#[test]
fn withdraw_rejections_change_nothing() {
    let mut env = env();
    let t = env.new_trader(1_000 * USDC);
    let thief = env.new_trader(0);
    env.deposit(&t, 100 * USDC).unwrap();
    let before = balances(&mut env, &t);

    assert_eq!(env.withdraw(&t, 0), Err(program_error(ErrorCode::ZeroAmount)));
    assert_eq!(env.withdraw(&t, 100 * USDC + 1), Err(program_error(ErrorCode::InsufficientCollateral)));

    // Someone else signs for the account.
    let ix = ix::withdraw(thief.owner, t.margin_account, thief.token_account, 10 * USDC, vec![]);
    assert_eq!(env.send(ix, &[&thief.keypair]), Err(program_error(ErrorCode::NotAccountOwner)));

    // A delegate may trade but never withdraw.
    let set = ix::set_delegate(t.owner, t.margin_account, thief.owner);
    env.send(set, &[&t.keypair]).unwrap();
    assert_eq!(env.margin_account(t.margin_account).delegate, thief.owner);
    let ix = ix::withdraw(thief.owner, t.margin_account, thief.token_account, 10 * USDC, vec![]);
    assert_eq!(env.send(ix, &[&thief.keypair]), Err(program_error(ErrorCode::NotAccountOwner)));

    // Destination of another mint.
    let foreign_mint = Pubkey::new_unique();
    env.write_mint(foreign_mint, 6);
    let wrong = Pubkey::new_unique();
    env.write_token_account(wrong, foreign_mint, t.owner, 0);
    let ix = ix::withdraw(t.owner, t.margin_account, wrong, 10 * USDC, vec![]);
    assert_eq!(env.send(ix, &[&t.keypair]), Err(program_error(ErrorCode::WrongCollateralMint)));

    // A vault that is not the exchange's.
    let mut ix = ix::withdraw(t.owner, t.margin_account, t.token_account, 10 * USDC, vec![]);
    ix.accounts[3].pubkey = thief.token_account;
    assert_eq!(env.send(ix, &[&t.keypair]), Err(program_error(ErrorCode::WrongVault)));

    // Owned by the token program but not a token account: the collateral mint itself (82 bytes),
    // and a 165-byte account that was never initialised. The byte reader refuses both, as the
    // full unpack did.
    for not_a_token_account in not_token_accounts(&mut env) {
        let ix = ix::withdraw(t.owner, t.margin_account, not_a_token_account, 10 * USDC, vec![]);
        assert!(matches!(env.send(ix, &[&t.keypair]), Err(TxError::Other(_))));
        let ix = ix::deposit(t.owner, t.margin_account, not_a_token_account, 10 * USDC);
        assert!(matches!(env.send(ix, &[&t.keypair]), Err(TxError::Other(_))));
    }

    assert_eq!(balances(&mut env, &t), before);
    env.assert_conservation();
}

/// Accounts the token program owns that are not token accounts.
fn not_token_accounts(env: &mut TestEnv<TestBackend>) -> [Pubkey; 2] {
    let uninitialised = Pubkey::new_unique();
    // The token program's id, as every token-moving instruction names it (its last account).
    let token_program = ix::deposit(uninitialised, uninitialised, uninitialised, 1).accounts.last().unwrap().pubkey;
    env.set_raw(uninitialised, vec![0u8; 165], token_program);
    [env.collateral_mint, uninitialised]
}

#[test]
fn set_delegate_rules() {
    let mut env = env();
    let t = env.new_trader(0);
    let other = env.new_trader(0);
    let ix = ix::set_delegate(t.owner, t.margin_account, t.owner);
    assert_eq!(env.send(ix, &[&t.keypair]), Err(program_error(ErrorCode::InvalidDelegate)));
    let ix = ix::set_delegate(other.owner, t.margin_account, other.owner);
    assert_eq!(env.send(ix, &[&other.keypair]), Err(program_error(ErrorCode::NotAccountOwner)));
    assert_eq!(env.margin_account(t.margin_account).delegate, Pubkey::default());
    let ix = ix::set_delegate(t.owner, t.margin_account, other.owner);
    env.send(ix, &[&t.keypair]).unwrap();
    let ix = ix::set_delegate(t.owner, t.margin_account, Pubkey::default());
    env.send(ix, &[&t.keypair]).unwrap();
    assert_eq!(env.margin_account(t.margin_account).delegate, Pubkey::default());
}

#[test]
fn sub_accounts_are_isolated_pdas() {
    let mut env = env();
    let t = env.new_trader(100 * USDC);
    let ix = ix::create_margin_account(key(&env.payer), t.owner, 7);
    env.send(ix, &[&t.keypair]).unwrap();
    let sub = pda::margin_account(&t.owner, 7);
    env.margin_accounts.push(sub);
    let acc = env.margin_account(sub);
    assert_eq!((acc.owner, acc.sub_account_id, acc.collateral), (t.owner, 7, 0));
    let ix = ix::deposit(t.owner, sub, t.token_account, 30 * USDC);
    env.send(ix, &[&t.keypair]).unwrap();
    assert_eq!(env.margin_account(sub).collateral, 30 * USDC as i64);
    assert_eq!(env.margin_account(t.margin_account).collateral, 0);
    // The same sub-account id cannot be created twice.
    let ix = ix::create_margin_account(key(&env.payer), t.owner, 7);
    assert!(env.send(ix, &[&t.keypair]).is_err());
    env.assert_conservation();
}

#[test]
fn close_margin_account_only_when_empty() {
    let mut env = env();
    let t = env.new_trader(100 * USDC);
    let other = env.new_trader(0);
    env.deposit(&t, 10 * USDC).unwrap();
    let ix = ix::close_margin_account(t.owner, t.margin_account);
    assert_eq!(env.send(ix.clone(), &[&t.keypair]), Err(program_error(ErrorCode::AccountNotEmpty)));
    let bad = ix::close_margin_account(other.owner, t.margin_account);
    assert_eq!(env.send(bad, &[&other.keypair]), Err(program_error(ErrorCode::NotAccountOwner)));
    env.withdraw(&t, 10 * USDC).unwrap();
    let rent = env.backend.account(&t.margin_account.to_bytes()).unwrap().lamports;
    let owner_before = env.backend.account(&t.owner.to_bytes()).map_or(0, |a| a.lamports);
    env.send(ix, &[&t.keypair]).unwrap();
    assert!(!env.account_exists(t.margin_account));
    let owner_after = env.backend.account(&t.owner.to_bytes()).map_or(0, |a| a.lamports);
    assert_eq!(owner_after - owner_before, rent, "rent goes back to the owner");
    env.assert_conservation();
}

#[test]
fn create_market_validates_governance_and_parameters() {
    let mut env = env();
    let payer = key(&env.payer);
    let governance = env.governance.clone();
    let cfg = default_oracle_config([9; 32]);
    let create =
        |risk, oracle, name: &str| ix::create_market(payer, key(&governance), 0, market_name(name), oracle, risk);

    // Wrong signer.
    let impostor = new_keypair();
    let ix = ix::create_market(payer, key(&impostor), 0, market_name("X"), cfg, default_risk());
    assert_eq!(env.send(ix, &[&impostor]), Err(program_error(ErrorCode::NotGovernance)));

    let cases: Vec<(margin_engine::state::RiskParams, ErrorCode)> = vec![
        (
            margin_engine::state::RiskParams { initial_margin_ratio: 50_000, ..default_risk() },
            ErrorCode::InitialNotAboveMaintenance,
        ),
        (
            margin_engine::state::RiskParams { liquidation_fee: 50_000, ..default_risk() },
            ErrorCode::MaintenanceNotAboveLiquidationFee,
        ),
        (
            margin_engine::state::RiskParams {
                maintenance_margin_ratio: 4_000,
                liquidation_fee: 1_000,
                insurance_fee: 0,
                ..default_risk()
            },
            ErrorCode::MarketParamOutOfBounds,
        ),
        (
            margin_engine::state::RiskParams { initial_margin_ratio: 1_000_001, ..default_risk() },
            ErrorCode::MarketParamOutOfBounds,
        ),
        (margin_engine::state::RiskParams { tick_size: 0, ..default_risk() }, ErrorCode::MarketParamOutOfBounds),
        (
            margin_engine::state::RiskParams { min_order_size: 15_000_000, ..default_risk() },
            ErrorCode::MarketParamOutOfBounds,
        ),
        (
            margin_engine::state::RiskParams { max_open_interest: 0, ..default_risk() },
            ErrorCode::MarketParamOutOfBounds,
        ),
        (
            margin_engine::state::RiskParams { size_premium_factor: 100_001, ..default_risk() },
            ErrorCode::MarketParamOutOfBounds,
        ),
    ];
    for (risk, expected) in cases {
        assert_eq!(env.send(create(risk, cfg, "X"), &[&governance]), Err(program_error(expected)), "{risk:?}");
    }
    let oracle_cases = vec![
        (
            margin_engine::state::OracleConfig { max_staleness_slots_trading: 200, ..cfg },
            ErrorCode::StalenessConfigInvalid,
        ),
        (margin_engine::state::OracleConfig { max_confidence_ratio: 0, ..cfg }, ErrorCode::MarketParamOutOfBounds),
        (margin_engine::state::OracleConfig { pyth_feed_id: [0; 32], ..cfg }, ErrorCode::MarketParamOutOfBounds),
        (
            margin_engine::state::OracleConfig { max_staleness_slots_margin: 5_000, ..cfg },
            ErrorCode::MarketParamOutOfBounds,
        ),
    ];
    for (oracle, expected) in oracle_cases {
        assert_eq!(
            env.send(create(default_risk(), oracle, "X"), &[&governance]),
            Err(program_error(expected)),
            "{oracle:?}"
        );
    }
    assert_eq!(
        env.send(create(default_risk(), cfg, ""), &[&governance]),
        Err(program_error(ErrorCode::InvalidMarketName))
    );
    assert_eq!(
        env.send(create(default_risk(), cfg, "SOL PERP"), &[&governance]),
        Err(program_error(ErrorCode::InvalidMarketName))
    );
    assert_eq!(env.exchange().market_count, 0, "nothing was created");
    assert!(!env.account_exists(pda::market(0)));

    // A valid market lands at index 0, the next at 1.
    env.send(create(default_risk(), cfg, "SOL-PERP"), &[&governance]).unwrap();
    let m = env.market(0);
    assert_eq!((m.market_index, m.name, m.risk, m.oracle), (0, market_name("SOL-PERP"), default_risk(), cfg));
    let ix = ix::create_market(payer, key(&governance), 1, market_name("BTC-PERP"), cfg, default_risk());
    env.send(ix, &[&governance]).unwrap();
    assert_eq!(env.exchange().market_count, 2);
    // Skipping an index is impossible: the index must be the next one.
    let ix = ix::create_market(payer, key(&governance), 5, market_name("ETH-PERP"), cfg, default_risk());
    assert_eq!(env.send(ix, &[&governance]), Err(program_error(ErrorCode::MarketIndexNotNext)));
    // Nor can the index and the PDA disagree.
    let mut ix = ix::create_market(payer, key(&governance), 2, market_name("ETH-PERP"), cfg, default_risk());
    ix.accounts[3].pubkey = pda::market(3);
    assert_eq!(env.send(ix, &[&governance]), Err(anchor_error(anchor_lang::error::ErrorCode::ConstraintSeeds)));
    assert_eq!(env.exchange().market_count, 2);
    assert!(!env.account_exists(pda::market(5)) && !env.account_exists(pda::market(3)));
}

#[test]
fn create_margin_account_needs_the_owner_signature_and_the_right_pda() {
    let mut env = env();
    let owner = new_keypair();
    let mut ix = ix::create_margin_account(key(&env.payer), key(&owner), 0);
    ix.accounts[1].is_signer = false;
    assert_eq!(env.send(ix, &[]), Err(anchor_error(anchor_lang::error::ErrorCode::AccountNotSigner)));
    // A PDA derived for another sub-account id than the one in the instruction data.
    let mut ix = ix::create_margin_account(key(&env.payer), key(&owner), 0);
    ix.accounts[3].pubkey = pda::margin_account(&key(&owner), 1);
    assert_eq!(env.send(ix, &[&owner]), Err(anchor_error(anchor_lang::error::ErrorCode::ConstraintSeeds)));
    assert!(!env.account_exists(pda::margin_account(&key(&owner), 0)));
    assert!(!env.account_exists(pda::margin_account(&key(&owner), 1)));
    // Paused lifecycle: refused with its own code.
    // Paused by governance (creating an account adds no risk, so the guardian may not).
    let guardian = env.guardian.clone();
    let lifecycle = margin_engine::state::paused_operations::ACCOUNT_LIFECYCLE;
    assert_eq!(
        env.send(ix::pause_operations(key(&guardian), lifecycle), &[&guardian]),
        Err(program_error(ErrorCode::GuardianCannotPause))
    );
    let gov = env.governance.clone();
    env.send(ix::pause_operations(key(&gov), lifecycle), &[&gov]).unwrap();
    let ix = ix::create_margin_account(key(&env.payer), key(&owner), 0);
    assert_eq!(env.send(ix, &[&owner]), Err(program_error(ErrorCode::OperationPaused)));
}

//! Cross-check against the real `solana-test-validator` (agave 4.2.2, built by
//! `tests/localnet/agave-validator.sh`; not in CI: the build takes most of an hour on 2 cores).
//! The .so, a collateral mint, two traders' token accounts, a funded fee payer and a Pyth
//! `PriceUpdateV2` are preloaded with `--upgradeable-program` / `--account`; then, over JSON-RPC only:
//! `bootstrap` creates the exchange and both markets, three margin accounts are opened and funded,
//! two orders cross and are filled, and a withdrawal passes its health check.
//!
//! Run: `bash tests/localnet/agave-check.sh`.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use margin_engine::instructions::PlaceOrderArgs;
use margin_engine::state::order_side;
use margin_engine_migrations::{bootstrap, parse};
use margin_engine_sdk::chain::Chain;
use margin_engine_sdk::instructions as ix;
use margin_engine_sdk::pda;
use margin_engine_sdk::rpc::RpcChain;
use margin_engine_tests::{pyth_update_bytes, USDC};
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_sdk::signature::{Keypair, Signer};

const TOKEN_PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const SOL_FEED: &str = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// `solana account --output json` form, as `--account` reads it.
fn write_account(dir: &Path, key: &Pubkey, lamports: u64, owner: &str, data: &[u8]) -> (Pubkey, PathBuf) {
    let path = dir.join(format!("{key}.json"));
    let json = format!(
        r#"{{"pubkey":"{key}","account":{{"lamports":{lamports},"data":["{}","base64"],"owner":"{owner}","executable":false,"rentEpoch":0,"space":{}}}}}"#,
        b64(data),
        data.len()
    );
    std::fs::write(&path, json).unwrap();
    (*key, path)
}

fn mint_bytes(decimals: u8) -> Vec<u8> {
    let mut d = vec![0u8; 82];
    d[0..4].copy_from_slice(&1u32.to_le_bytes()); // mint authority: Some(random)
    d[4..36].copy_from_slice(Pubkey::new_unique().as_ref());
    d[36..44].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    d[44] = decimals;
    d[45] = 1; // initialized
    d
}

fn token_account_bytes(mint: &Pubkey, owner: &Pubkey, amount: u64) -> Vec<u8> {
    let mut d = vec![0u8; 165];
    d[0..32].copy_from_slice(mint.as_ref());
    d[32..64].copy_from_slice(owner.as_ref());
    d[64..72].copy_from_slice(&amount.to_le_bytes());
    d[108] = 1; // AccountState::Initialized
    d
}

#[test]
#[ignore = "needs solana-test-validator 4.2.2: run by tests/localnet/agave-check.sh"]
fn the_program_runs_on_solana_test_validator() {
    let validator =
        std::env::var("AGAVE_TEST_VALIDATOR").expect("AGAVE_TEST_VALIDATOR=<path to solana-test-validator>");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let so = root.join("target/deploy/margin_engine.so");
    let dir = std::env::temp_dir().join(format!("agave-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let payer = Keypair::new();
    let traders = [Keypair::new(), Keypair::new()];
    let mint = Pubkey::new_unique();
    let pyth = Pubkey::new_unique();
    let feed: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&SOL_FEED[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let wallets: Vec<Pubkey> = traders.iter().map(|_| Pubkey::new_unique()).collect();
    let mut accounts = vec![
        write_account(&dir, &payer.pubkey(), 1_000 * 1_000_000_000, "11111111111111111111111111111111", &[]),
        write_account(&dir, &mint, 10_000_000, TOKEN_PROGRAM, &mint_bytes(6)),
        write_account(
            &dir,
            &pyth,
            10_000_000,
            &pyth_solana_receiver_sdk::ID.to_string(),
            &pyth_update_bytes(feed, 100_000_000, 0, 0, now, VerificationLevel::Full),
        ),
    ];
    for (t, w) in traders.iter().zip(&wallets) {
        accounts.push(write_account(
            &dir,
            w,
            10_000_000,
            TOKEN_PROGRAM,
            &token_account_bytes(&mint, &t.pubkey(), 10_000 * USDC),
        ));
    }

    let port = 18_899u16;
    let mut cmd = Command::new(&validator);
    cmd.args(["--ledger", dir.join("ledger").to_str().unwrap(), "--reset", "--quiet", "--bind-address", "127.0.0.1"])
        .args(["--rpc-port", &port.to_string(), "--faucet-port", "19_900".replace('_', "").as_str()])
        // Upgradeable, with the payer as upgrade authority: only it may initialise the exchange.
        .args([
            "--upgradeable-program",
            &margin_engine::ID.to_string(),
            so.to_str().unwrap(),
            &payer.pubkey().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, file) in &accounts {
        cmd.arg("--account").arg(key.to_string()).arg(file);
    }
    let mut child = cmd.spawn().expect("solana-test-validator starts");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}");
    let mut chain = RpcChain::new(&url, Keypair::try_from(&payer.to_bytes()[..]).unwrap());
    while chain.account(&payer.pubkey()).ok().flatten().is_none() {
        assert!(started.elapsed() < Duration::from_secs(90), "validator did not answer within 90 s");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("validator exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let _guard = Kill(child);
    // Genesis programs become callable a few slots in (the program cache's visibility delay).
    while chain.clock().map(|c| c.slot).unwrap_or(0) < 8 {
        assert!(started.elapsed() < Duration::from_secs(90), "validator made no slots within 90 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("solana-test-validator up and at slot 8 in {:.1} s", started.elapsed().as_secs_f64());

    // The example config with this mint, the payer as governance, and staleness limits at their
    // maximum (the preloaded price is never republished here).
    let text = std::fs::read_to_string(root.join("migrations/exchange.example.toml"))
        .unwrap()
        .replace("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", &mint.to_string())
        .replace("max_staleness_slots_margin = 120", "max_staleness_slots_margin = 1500")
        .replace("max_staleness_slots_trading = 25", "max_staleness_slots_trading = 1500")
        .replace("max_staleness_seconds = 60", "max_staleness_seconds = 600")
        .replace("max_age_seconds_liquidation = 60", "max_age_seconds_liquidation = 3600");
    let config = parse(&text).unwrap();
    let actions = bootstrap(&mut chain, &config, &payer).expect("bootstrap over RPC");
    println!("bootstrap: {actions:?}");
    assert_eq!(actions.len(), 3, "exchange and two markets created");
    assert!(chain.account(&pda::market(1)).unwrap().is_some());

    // Margin accounts (the payer's is the filler's), deposits, two crossing orders, a fill.
    let oracles = ix::MarketOracles { pyth, switchboard: None };
    let filler_account = pda::margin_account(&payer.pubkey(), 0);
    chain.send(&[ix::create_margin_account(payer.pubkey(), payer.pubkey(), 0)], &[]).unwrap();
    let margin: Vec<Pubkey> = traders.iter().map(|t| pda::margin_account(&t.pubkey(), 0)).collect();
    for ((t, w), m) in traders.iter().zip(&wallets).zip(&margin) {
        chain.send(&[ix::create_margin_account(payer.pubkey(), t.pubkey(), 0)], &[t]).unwrap();
        chain.send(&[ix::deposit(t.pubkey(), *m, *w, 1_000 * USDC)], &[t]).unwrap();
    }
    let order = |side, post_only| PlaceOrderArgs {
        post_only,
        client_order_id: 1,
        ..margin_engine_sdk::orders::limit(0, side, 100_000_000, 1_000_000_000)
    };
    chain
        .send(
            &[ix::place_order(traders[1].pubkey(), margin[1], oracles, order(order_side::ASK, true), vec![])],
            &[&traders[1]],
        )
        .unwrap();
    chain
        .send(
            &[ix::place_order(traders[0].pubkey(), margin[0], oracles, order(order_side::BID, false), vec![])],
            &[&traders[0]],
        )
        .unwrap();
    let decode = |chain: &mut RpcChain, key: &Pubkey| {
        margin_engine_sdk::accounts::margin_account(&chain.account(key).unwrap().unwrap()).unwrap()
    };
    let (buyer, seller) = (decode(&mut chain, &margin[0]), decode(&mut chain, &margin[1]));
    let fill = ix::Fill {
        market_index: 0,
        taker: margin[0],
        taker_order_id: buyer.orders.iter().find(|o| o.base_amount > 0).unwrap().order_id,
        maker: margin[1],
        maker_order_id: seller.orders.iter().find(|o| o.base_amount > 0).unwrap().order_id,
        max_base_amount: u64::MAX,
    };
    chain.send(&[ix::fill_orders(payer.pubkey(), filler_account, oracles, fill, vec![])], &[]).expect("fill over RPC");
    let (buyer, seller) = (decode(&mut chain, &margin[0]), decode(&mut chain, &margin[1]));
    assert_eq!(buyer.positions[0].base_amount, 1_000_000_000);
    assert_eq!(seller.positions[0].base_amount, -1_000_000_000);
    assert!(buyer.collateral < 1_000 * USDC as i64, "the taker paid a fee");

    // A withdrawal with the health check over the held market.
    let health = ix::health_accounts(&buyer, |_| oracles);
    chain
        .send(&[ix::withdraw(traders[0].pubkey(), margin[0], wallets[0], 100 * USDC, health)], &[&traders[0]])
        .expect("withdraw");
    assert_eq!(decode(&mut chain, &margin[0]).collateral, buyer.collateral - 100 * USDC as i64);
    println!("on solana-test-validator: bootstrap, 3 accounts, 2 deposits, 2 orders, 1 fill, 1 health-checked withdrawal: ok in {:.1} s", started.elapsed().as_secs_f64());
}

//! The instruction fuzzer (`margin_engine_tests::fuzz`; the `fuzz` binary runs it at volume) on a
//! few seeded exchanges, through the backend under test: every instruction, valid and mutated;
//! no panic, every refusal named and changing nothing, every invariant after an accepted one.
#[cfg(sbf_backend)]
use crate::TestBackend;
use margin_engine_tests::fuzz::{run_chunk, FuzzStats, INSTRUCTIONS};
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;

#[test]
fn mutated_instructions_are_refused_by_name_and_change_nothing() {
    let mut stats = FuzzStats::default();
    for chunk in 0..3 {
        if let Some(crash) = run_chunk(TestBackend::new(), 7, chunk, 150, &mut stats) {
            panic!(
                "chunk {} execution {}: {}\n{}\nreplay: cargo run --release -p margin-engine-tests --bin fuzz -- --seed 7 --first-chunk {} --chunks 1 --executions {}",
                crash.chunk,
                crash.execution,
                crash.what,
                crash.instruction,
                crash.chunk,
                crash.execution + 1
            );
        }
    }
    assert_eq!(stats.executions, 450);
    assert_eq!(stats.by_instruction.len() as u64, INSTRUCTIONS, "every instruction fuzzed");
    // Both outcomes happen: mutations are refused by name, well-formed calls go through.
    assert!(stats.accepted > 20 && stats.refused_named > 200, "{stats:?}");
}

/// The accepted-call check can fail: a wallet drained, or a margin account changed by a user
/// instruction, without the owner's signature, is reported (conservation alone would not see
/// either: the tokens only moved between accounts).
#[test]
fn taking_from_an_account_without_its_signature_is_caught() {
    use margin_engine_tests::invariants::Fixture;
    let mut fixture = Fixture::new(TestBackend::new());
    let victim = fixture.everyone[0].clone();
    let keys = fixture.pool();
    let before = fixture.snapshot(&keys);
    let payer = margin_engine_tests::key(&fixture.env.payer);
    let user_call =
        margin_engine_sdk::instructions::withdraw(victim.owner, victim.margin_account, victim.token_account, 1, vec![]);
    // The wallet drained by a direct write (what a missing signer check would let a call do).
    let (mint, owner) = (fixture.env.collateral_mint, victim.owner);
    fixture.env.write_token_account(victim.token_account, mint, owner, 1);
    let after = fixture.snapshot(&keys);
    let found =
        fixture.taken_without_signature(&user_call, &[payer], &keys, &before, &after).expect("wallet theft seen");
    assert!(found.contains("wallet"), "{found}");
    // The same change signed by the owner is the owner's business.
    assert_eq!(fixture.taken_without_signature(&user_call, &[payer, owner], &keys, &before, &after), None);
}

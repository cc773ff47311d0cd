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

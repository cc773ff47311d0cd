//! The project's integration suite (tests/tests/*.rs), compiled a second time against the real
//! SBPF .so. Each file picks `crate::TestBackend` when built with `--cfg sbf_backend`, so the same
//! scenarios, assertions and error codes run on the metered runtime. Run with `tests/sbf-runner/test.sh`.
#![cfg(sbf_backend)]

pub type TestBackend = margin_engine_sbf_runner::SbfBackend;

#[path = "../../../tests/tests/account_substitution.rs"]
mod account_substitution;
#[path = "../../../tests/tests/attacks.rs"]
mod attacks;
#[path = "../../../tests/tests/breakers_governance.rs"]
mod breakers_governance;
#[path = "../../../tests/tests/conservation_props.rs"]
mod conservation_props;
#[path = "../../../tests/tests/core_accounts.rs"]
mod core_accounts;
#[path = "../../../tests/tests/fuzz.rs"]
mod fuzz;
#[path = "../../../tests/tests/invariants.rs"]
mod invariants;
#[path = "../../../tests/tests/liquidation.rs"]
mod liquidation;
#[path = "../../../tests/tests/margin_and_oracles.rs"]
mod margin_and_oracles;
#[path = "../../../tests/tests/order_types.rs"]
mod order_types;
#[path = "../../../tests/tests/trading.rs"]
mod trading;
#[path = "../../../tests/tests/volatility.rs"]
mod volatility;
#[path = "../../../tests/tests/waterfall.rs"]
mod waterfall;

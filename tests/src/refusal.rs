//! What a refusal is: every failed transaction must carry a named error (this program's, Anchor's
//! or the token program's), never a panic or an untyped failure. Used by the invariants runner and
//! the instruction fuzzer.
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::backend::TxError;

/// Where a named error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// One of this program's `ErrorCode`s (named in the committed IDL).
    Program,
    /// Anchor's own (account constraints, deserialisation): codes 100–5999.
    Anchor,
    /// The SPL token program's `TokenError`, surfaced through a CPI.
    Token,
    /// One of the runtime's standard instruction errors, returned by this program or by a program
    /// it called (the system program refusing to create an account that exists, a CPI asking
    /// for a privilege the caller did not grant).
    Runtime,
}

/// A refusal with a name, or the reason it has none.
pub type Named = Result<(Origin, String), String>;

fn program_errors() -> &'static HashMap<u32, String> {
    static ERRORS: OnceLock<HashMap<u32, String>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        // The IDL is the published list of the program's errors; a test keeps it current.
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../app/idl/margin_engine.json")).expect("committed IDL parses");
        idl["errors"]
            .as_array()
            .expect("IDL has errors")
            .iter()
            .map(|e| (e["code"].as_u64().unwrap() as u32, e["name"].as_str().unwrap().to_string()))
            .collect()
    })
}

/// Names of spl-token's `TokenError`, in discriminant order.
const TOKEN_ERRORS: [&str; 20] = [
    "NotRentExempt",
    "InsufficientFunds",
    "InvalidMint",
    "MintMismatch",
    "OwnerMismatch",
    "FixedSupply",
    "AlreadyInUse",
    "InvalidNumberOfProvidedSigners",
    "InvalidNumberOfRequiredSigners",
    "UninitializedState",
    "NativeNotSupported",
    "NonNativeHasBalance",
    "InvalidInstruction",
    "InvalidState",
    "Overflow",
    "AuthorityTypeNotSupported",
    "MintCannotFreeze",
    "AccountFrozen",
    "MintDecimalsMismatch",
    "NonNativeNotSupported",
];

/// The runtime's standard instruction errors that are refusals. Left out on purpose, so they
/// count as unnamed: `ProgramFailedToComplete` (a panic), and the runtime catching a program
/// writing what it must not (`ReadonlyDataModified`, `ExternalAccountDataModified`,
/// `ExecutableDataModified`, `ReadonlyLamportChange`, `UnbalancedInstruction`), which means a
/// missing account check.
const RUNTIME_REFUSALS: [&str; 20] = [
    "InvalidArgument",
    "InvalidInstructionData",
    "InvalidAccountData",
    "AccountDataTooSmall",
    "InsufficientFunds",
    "IncorrectProgramId",
    "MissingRequiredSignature",
    "AccountAlreadyInitialized",
    "UninitializedAccount",
    "NotEnoughAccountKeys",
    "AccountBorrowFailed",
    "MaxSeedLengthExceeded",
    "InvalidSeeds",
    "BorshIoError",
    "AccountNotRentExempt",
    "IllegalOwner",
    "InvalidAccountOwner",
    "ArithmeticOverflow",
    "PrivilegeEscalation",
    "IncorrectAuthority",
];

/// The name of a refusal, or why it counts as unnamed (a panic shows up as
/// `ProgramFailedToComplete`, an unknown custom code as itself).
pub fn classify(error: &TxError) -> Named {
    match error {
        TxError::Custom { code, .. } => {
            if let Some(name) = program_errors().get(code) {
                Ok((Origin::Program, name.clone()))
            } else if (100..anchor_lang::error::ERROR_CODE_OFFSET).contains(code) {
                Ok((Origin::Anchor, format!("anchor {code}")))
            } else if let Some(name) = TOKEN_ERRORS.get(*code as usize) {
                Ok((Origin::Token, name.to_string()))
            } else {
                Err(format!("unknown custom error code {code}"))
            }
        }
        TxError::Other(text) => {
            // "InstructionError(i, Name)" as the backends print it.
            let name = text
                .strip_prefix("InstructionError(")
                .and_then(|rest| rest.split_once(", "))
                .map(|(_, name)| name.trim_end_matches(')'));
            match name {
                Some(name) if RUNTIME_REFUSALS.contains(&name) => Ok((Origin::Runtime, name.to_string())),
                _ => Err(text.clone()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_anchor_and_token_codes_are_named_and_panics_are_not() {
        let code = anchor_lang::error::ERROR_CODE_OFFSET + margin_engine::error::ErrorCode::NotGovernance as u32;
        assert_eq!(classify(&TxError::Custom { index: 0, code }), Ok((Origin::Program, "NotGovernance".into())));
        assert_eq!(classify(&TxError::Custom { index: 0, code: 3012 }).unwrap().0, Origin::Anchor);
        assert_eq!(classify(&TxError::Custom { index: 0, code: 1 }), Ok((Origin::Token, "InsufficientFunds".into())));
        assert!(classify(&TxError::Custom { index: 0, code: 99_999 }).is_err());
        assert!(classify(&TxError::Other("InstructionError(0, ProgramFailedToComplete)".into())).is_err());
        assert!(classify(&TxError::Other("InstructionError(1, ReadonlyDataModified)".into())).is_err());
        assert_eq!(
            classify(&TxError::Other("InstructionError(0, InvalidInstructionData)".into())),
            Ok((Origin::Runtime, "InvalidInstructionData".into()))
        );
    }
}

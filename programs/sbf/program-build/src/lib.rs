//! The SBPF build of margin_engine: this cdylib only links the program crate, whose
//! `#[program]` (built without `no-entrypoint`) defines the `entrypoint` symbol, the bump
//! global allocator and the panic hook. Built by `programs/sbf/build.sh`.
#![no_std]

pub use margin_engine::entrypoint;

#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

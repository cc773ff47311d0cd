// Program-derived addresses, mirroring app/sdk/src/pda.rs (the reference) and the seeds in
// programs/margin-engine/src/constants.rs.

import { PublicKey } from "@solana/web3.js";

import { BPF_LOADER_UPGRADEABLE_PROGRAM_ID, PROGRAM_ID, SEEDS } from "./constants";

function u16le(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`not a u16: ${value}`);
  }
  const buf = Buffer.alloc(2);
  buf.writeUInt16LE(value);
  return buf;
}

function find(seeds: (Buffer | Uint8Array)[], programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync(seeds, programId)[0];
}

/** `["exchange"]`: the singleton. */
export function exchangePda(programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([SEEDS.exchange], programId);
}

/** `["collateral_vault"]`: token account holding every margin account's collateral. */
export function collateralVaultPda(programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([SEEDS.collateralVault], programId);
}

/** `["insurance_vault"]`: token account holding the insurance fund. */
export function insuranceVaultPda(programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([SEEDS.insuranceVault], programId);
}

/** `["insurance_stake", owner]`. */
export function insuranceStakePda(owner: PublicKey, programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([SEEDS.insuranceStake, owner.toBuffer()], programId);
}

/** `["market", index as u16 LE]`: markets are numbered densely from 0. */
export function marketPda(index: number, programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([SEEDS.market, u16le(index)], programId);
}

/** `["margin_account", owner, sub_account_id as u16 LE]`. */
export function marginAccountPda(owner: PublicKey, subAccountId = 0, programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([SEEDS.marginAccount, owner.toBuffer(), u16le(subAccountId)], programId);
}

/**
 * The program's ProgramData account (upgradeable loader): `[program id]` under
 * `BPFLoaderUpgradeab1e…`. `initialize_exchange` checks that its upgrade authority pays.
 */
export function programDataPda(programId: PublicKey = PROGRAM_ID): PublicKey {
  return find([programId.toBuffer()], BPF_LOADER_UPGRADEABLE_PROGRAM_ID);
}

/**
 * The bytes of an upgradeable-loader `ProgramData` header (`pda::program_data_header`): bincode of
 * `UpgradeableLoaderState::ProgramData { slot, upgrade_authority_address }` — u32 LE tag 3, u64 LE
 * slot, then `Option<Pubkey>` (1 + 32 bytes, or a single 0). Test chains that load the program
 * non-upgradeably write it so `initialize_exchange` can run.
 */
export function programDataHeader(upgradeAuthority: PublicKey | null, slot: bigint = 0n): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(3, 0);
  head.writeBigUInt64LE(slot, 4);
  return upgradeAuthority
    ? Buffer.concat([head, Buffer.from([1]), upgradeAuthority.toBuffer()])
    : Buffer.concat([head, Buffer.from([0])]);
}

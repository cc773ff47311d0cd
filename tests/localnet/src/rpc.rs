//! The JSON-RPC methods, in solana-test-validator's request and response shapes (what
//! solana-rpc-client, @solana/web3.js and @coral-xyz/anchor send and parse). Every commitment
//! is answered from the one bank: a transaction is final when `sendTransaction` returns.
use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use tokio::sync::Mutex;

use crate::ledger::{account_from_ui, Ledger, Preflight, FEE_PER_SIGNATURE};

/// The agave version whose bank this runs, reported by `getVersion`.
const AGAVE_VERSION: &str = "4.2.2";
/// Transactions older than this many blocks are refused by a validator (`lastValidBlockHeight`).
const BLOCKHASH_LIFETIME: u64 = 150;

struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

fn invalid_params(message: impl Into<String>) -> RpcError {
    RpcError { code: -32602, message: message.into(), data: None }
}

fn internal(message: impl Into<String>) -> RpcError {
    RpcError { code: -32603, message: message.into(), data: None }
}

type RpcResult = Result<Value, RpcError>;

pub async fn handle(call: &Value, ledger: &Arc<Mutex<Ledger>>) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call["method"].as_str().unwrap_or_default();
    let empty = Value::Array(vec![]);
    let params = call.get("params").unwrap_or(&empty);
    let mut ledger = ledger.lock().await;
    ledger.catch_up().await;
    match dispatch(method, params, &mut ledger).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => {
            let mut error = json!({"code": e.code, "message": e.message});
            if let Some(data) = e.data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}

fn pubkey_param(params: &Value, i: usize) -> Result<Pubkey, RpcError> {
    let s = params[i].as_str().ok_or_else(|| invalid_params(format!("param {i}: expected a base58 address")))?;
    s.parse().map_err(|_| invalid_params(format!("Invalid param: WrongSize or not base58: {s}")))
}

fn with_context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot, "apiVersion": AGAVE_VERSION}, "value": value})
}

fn ui_account(a: &solana_account::Account) -> Value {
    json!({
        "lamports": a.lamports,
        "data": [base64::engine::general_purpose::STANDARD.encode(&a.data), "base64"],
        "owner": a.owner.to_string(),
        "executable": a.executable,
        "rentEpoch": a.rent_epoch,
        "space": a.data.len(),
    })
}

fn decode_transaction(params: &Value) -> Result<VersionedTransaction, RpcError> {
    let wire = params[0].as_str().ok_or_else(|| invalid_params("param 0: expected an encoded transaction"))?;
    let bytes = match params[1]["encoding"].as_str().unwrap_or("base58") {
        "base64" => base64::engine::general_purpose::STANDARD.decode(wire).map_err(|e| invalid_params(format!("invalid base64: {e}")))?,
        "base58" => bs58::decode(wire).into_vec().map_err(|e| invalid_params(format!("invalid base58: {e}")))?,
        other => return Err(invalid_params(format!("unsupported encoding: {other}"))),
    };
    bincode::deserialize(&bytes).map_err(|e| invalid_params(format!("failed to deserialize transaction: {e}")))
}

fn simulation_value(err: Option<&solana_transaction_error::TransactionError>, logs: &[String], units: u64) -> Value {
    json!({"err": err, "logs": logs, "accounts": null, "unitsConsumed": units, "returnData": null, "innerInstructions": null})
}

/// Memcmp (`bytes` base58 or with `encoding`) and `dataSize` filters.
fn passes_filters(data: &[u8], filters: &Value) -> Result<bool, RpcError> {
    let Some(filters) = filters.as_array() else { return Ok(true) };
    for f in filters {
        if let Some(size) = f.get("dataSize") {
            if size.as_u64() != Some(data.len() as u64) {
                return Ok(false);
            }
        } else if let Some(m) = f.get("memcmp") {
            let offset = m["offset"].as_u64().ok_or_else(|| invalid_params("memcmp.offset"))? as usize;
            let text = m["bytes"].as_str().ok_or_else(|| invalid_params("memcmp.bytes"))?;
            let bytes = match m["encoding"].as_str().unwrap_or("base58") {
                "base64" => base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| invalid_params("memcmp base64"))?,
                _ => bs58::decode(text).into_vec().map_err(|_| invalid_params("memcmp base58"))?,
            };
            if data.get(offset..offset + bytes.len()) != Some(&bytes[..]) {
                return Ok(false);
            }
        } else {
            return Err(invalid_params(format!("unsupported filter {f}")));
        }
    }
    Ok(true)
}

async fn dispatch(method: &str, params: &Value, ledger: &mut Ledger) -> RpcResult {
    let slot = ledger.slot;
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": AGAVE_VERSION, "feature-set": 0})),
        "getGenesisHash" => Ok(json!(ledger.genesis_hash().to_string())),
        "getSlot" | "getBlockHeight" => Ok(json!(slot)),
        "getTransactionCount" => Ok(json!(ledger.transaction_count)),
        "getEpochInfo" => {
            let clock = ledger.clock().await.map_err(internal)?;
            let epoch_start = (0..clock.epoch).map(|e| ledger.slots_in_epoch(e)).sum::<u64>();
            Ok(json!({"absoluteSlot": slot, "blockHeight": slot, "epoch": clock.epoch,
                "slotIndex": slot.saturating_sub(epoch_start), "slotsInEpoch": ledger.slots_in_epoch(clock.epoch),
                "transactionCount": ledger.transaction_count}))
        }
        "getLatestBlockhash" => {
            let hash = ledger.latest_blockhash().await.map_err(internal)?;
            Ok(with_context(slot, json!({"blockhash": hash.to_string(), "lastValidBlockHeight": slot + BLOCKHASH_LIFETIME})))
        }
        "isBlockhashValid" => {
            let hash: solana_hash::Hash =
                params[0].as_str().and_then(|h| h.parse().ok()).ok_or_else(|| invalid_params("param 0: blockhash"))?;
            Ok(with_context(slot, json!(ledger.blockhash_is_valid(&hash).await.map_err(internal)?)))
        }
        "getFeeForMessage" => {
            let wire = params[0].as_str().ok_or_else(|| invalid_params("param 0: message"))?;
            let bytes = base64::engine::general_purpose::STANDARD.decode(wire).map_err(|_| invalid_params("base64"))?;
            let message: solana_message::VersionedMessage =
                bincode::deserialize(&bytes).map_err(|e| invalid_params(format!("message: {e}")))?;
            let fee = match message {
                // The bank prices legacy messages (None: blockhash expired, as a validator says).
                solana_message::VersionedMessage::Legacy(m) => ledger.fee_for_message(m).await.map_err(internal)?,
                v0 => Some(FEE_PER_SIGNATURE * v0.header().num_required_signatures as u64),
            };
            Ok(with_context(slot, json!(fee)))
        }
        "getAccountInfo" => {
            let key = pubkey_param(params, 0)?;
            let account = ledger.account(&key).await.map_err(internal)?;
            Ok(with_context(slot, account.as_ref().map(ui_account).unwrap_or(Value::Null)))
        }
        "getMultipleAccounts" => {
            let keys = params[0].as_array().ok_or_else(|| invalid_params("param 0: addresses"))?;
            let mut out = Vec::with_capacity(keys.len());
            for (i, _) in keys.iter().enumerate() {
                let key = pubkey_param(&params[0], i)?;
                out.push(ledger.account(&key).await.map_err(internal)?.as_ref().map(ui_account).unwrap_or(Value::Null));
            }
            Ok(with_context(slot, Value::Array(out)))
        }
        "getBalance" => {
            let key = pubkey_param(params, 0)?;
            let lamports = ledger.account(&key).await.map_err(internal)?.map(|a| a.lamports).unwrap_or(0);
            Ok(with_context(slot, json!(lamports)))
        }
        "getTokenAccountBalance" => {
            let key = pubkey_param(params, 0)?;
            let account = ledger.account(&key).await.map_err(internal)?.ok_or_else(|| invalid_params("Invalid param: could not find account"))?;
            if account.data.len() < 72 {
                return Err(invalid_params("Invalid param: not a Token account"));
            }
            let mint = Pubkey::new_from_array(account.data[0..32].try_into().unwrap());
            let amount = u64::from_le_bytes(account.data[64..72].try_into().unwrap());
            let decimals = ledger.account(&mint).await.map_err(internal)?.and_then(|m| m.data.get(44).copied()).unwrap_or(0);
            let ui = amount as f64 / 10f64.powi(decimals as i32);
            Ok(with_context(slot, json!({"amount": amount.to_string(), "decimals": decimals, "uiAmount": ui, "uiAmountString": ui.to_string()})))
        }
        "getProgramAccounts" => {
            let program = pubkey_param(params, 0)?;
            let config = &params[1];
            let keys: Vec<Pubkey> = ledger.known_addresses().copied().collect();
            let mut out = vec![];
            for key in keys {
                let Some(account) = ledger.account(&key).await.map_err(internal)? else { continue };
                if account.owner == program && passes_filters(&account.data, &config["filters"])? {
                    out.push(json!({"pubkey": key.to_string(), "account": ui_account(&account)}));
                }
            }
            if config["withContext"].as_bool() == Some(true) {
                Ok(with_context(slot, Value::Array(out)))
            } else {
                Ok(Value::Array(out))
            }
        }
        "getMinimumBalanceForRentExemption" => {
            let len = params[0].as_u64().ok_or_else(|| invalid_params("param 0: data length"))?;
            Ok(json!(ledger.rent_exempt_minimum(len as usize).await.map_err(internal)?))
        }
        "requestAirdrop" => {
            let key = pubkey_param(params, 0)?;
            let lamports = params[1].as_u64().ok_or_else(|| invalid_params("param 1: lamports"))?;
            let sig = ledger.airdrop(key, lamports).await.map_err(internal)?;
            Ok(json!(sig.to_string()))
        }
        "sendTransaction" => {
            let tx = decode_transaction(params)?;
            let preflight = !params[1]["skipPreflight"].as_bool().unwrap_or(false);
            match ledger.send(tx, preflight).await {
                Ok(sig) => Ok(json!(sig.to_string())),
                Err(Ok(Preflight { err, logs, compute_units })) => Err(RpcError {
                    code: -32002,
                    message: format!("Transaction simulation failed: {err}"),
                    data: Some(simulation_value(Some(&err), &logs, compute_units)),
                }),
                Err(Err(message)) => Err(invalid_params(message)),
            }
        }
        "simulateTransaction" => {
            let tx = decode_transaction(params)?;
            let (err, logs, units) = ledger.simulate(&tx).await.map_err(internal)?;
            Ok(with_context(slot, simulation_value(err.as_ref(), &logs, units)))
        }
        "getSignatureStatuses" => {
            let sigs = params[0].as_array().ok_or_else(|| invalid_params("param 0: signatures"))?;
            let statuses: Vec<Value> = sigs
                .iter()
                .map(|s| {
                    let sig: Option<Signature> = s.as_str().and_then(|s| s.parse().ok());
                    match sig.and_then(|sig| ledger.record(&sig)) {
                        Some(r) => json!({"slot": r.slot, "confirmations": null, "err": r.err,
                            "status": match &r.err { None => json!({"Ok": null}), Some(e) => json!({"Err": e}) },
                            "confirmationStatus": "finalized"}),
                        None => Value::Null,
                    }
                })
                .collect();
            Ok(with_context(slot, Value::Array(statuses)))
        }
        "getTransaction" => {
            let sig: Signature = params[0].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| invalid_params("param 0: signature"))?;
            let encoding = params[1]["encoding"].as_str().unwrap_or("json");
            Ok(ledger.record(&sig).map(|r| transaction_json(r, encoding)).unwrap_or(Value::Null))
        }
        "localnet_warp" => {
            let target = params[0].as_u64().ok_or_else(|| invalid_params("param 0: slot"))?;
            let unix_timestamp = params[1].as_i64().ok_or_else(|| invalid_params("param 1: unix timestamp"))?;
            ledger.warp(target, unix_timestamp).await.map_err(invalid_params)?;
            Ok(Value::Null)
        }
        "localnet_setAccount" => {
            let key = pubkey_param(params, 0)?;
            let account = account_from_ui(&params[1]).map_err(invalid_params)?;
            ledger.set_account(key, account);
            Ok(Value::Null)
        }
        _ => Err(RpcError { code: -32601, message: format!("Method not found: {method}"), data: None }),
    }
}

/// `getTransaction` in `json` (message spelled out) or `base64` (wire bytes) encoding.
fn transaction_json(r: &crate::ledger::TxRecord, encoding: &str) -> Value {
    let tx = &r.transaction;
    let message = &tx.message;
    let transaction = if encoding == "base64" {
        json!([base64::engine::general_purpose::STANDARD.encode(bincode::serialize(tx).unwrap_or_default()), "base64"])
    } else {
        let header = message.header();
        let instructions: Vec<Value> = message
            .instructions()
            .iter()
            .map(|ix| json!({"programIdIndex": ix.program_id_index, "accounts": ix.accounts,
                "data": bs58::encode(&ix.data).into_string(), "stackHeight": null}))
            .collect();
        let mut m = json!({
            "accountKeys": message.static_account_keys().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            "header": {"numRequiredSignatures": header.num_required_signatures,
                "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts},
            "recentBlockhash": message.recent_blockhash().to_string(),
            "instructions": instructions,
        });
        if let Some(lookups) = message.address_table_lookups() {
            m["addressTableLookups"] = Value::Array(
                lookups
                    .iter()
                    .map(|l| json!({"accountKey": l.account_key.to_string(), "writableIndexes": l.writable_indexes, "readonlyIndexes": l.readonly_indexes}))
                    .collect(),
            );
        }
        json!({"signatures": tx.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "message": m})
    };
    let fee = FEE_PER_SIGNATURE * message.header().num_required_signatures as u64;
    json!({
        "slot": r.slot,
        "blockTime": r.block_time,
        "version": match message { solana_message::VersionedMessage::Legacy(_) => json!("legacy"), _ => json!(0) },
        "transaction": transaction,
        "meta": {
            "err": r.err,
            "status": match &r.err { None => json!({"Ok": null}), Some(e) => json!({"Err": e}) },
            "fee": fee,
            "preBalances": r.pre_balances,
            "postBalances": r.post_balances,
            "innerInstructions": [],
            "logMessages": r.logs,
            "preTokenBalances": [],
            "postTokenBalances": [],
            "rewards": [],
            "loadedAddresses": {"writable": [], "readonly": []},
            "computeUnitsConsumed": r.compute_units,
        },
    })
}

//! java-tron's HTTP API (`/wallet/*`, the full node's port 8090), the subset TronWeb uses to read an account, build
//! a contract call, estimate it, broadcast a signed transaction and follow it. Bodies and answers are java-tron's
//! JSON: bytes as hex, addresses as hex `41…` or, with `"visible": true`, base58check. The transactions are the
//! gRPC side's: built, checked and executed by the same code.

use std::sync::Arc;

use alloy::primitives::{B256, keccak256};
use axum::{Json, Router, extract::State, routing::post};
use prost::Message;
use serde_json::{Value, json};

use crate::Node;
use crate::proto::{self, Transaction, TriggerSmartContract, r#return::ResponseCode, transaction};

type Answer = Json<Value>;

/// Routes of the HTTP API.
pub(crate) fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/wallet/getaccount", post(get_account))
        .route("/walletsolidity/getaccount", post(get_solid_account))
        .route("/wallet/getnowblock", post(get_now_block).get(get_now_block))
        .route("/wallet/getchainparameters", post(get_chain_parameters).get(get_chain_parameters))
        .route("/wallet/triggersmartcontract", post(trigger_smart_contract))
        .route("/wallet/triggerconstantcontract", post(trigger_constant_contract))
        .route("/wallet/broadcasttransaction", post(broadcast_transaction))
        .route("/wallet/gettransactioninfobyid", post(get_transaction_info_by_id))
        .route("/walletsolidity/gettransactioninfobyid", post(get_solid_transaction_info_by_id))
        .with_state(node)
}

fn error(message: impl std::fmt::Display) -> Answer {
    Json(json!({ "Error": message.to_string() }))
}

/// An address from a request: base58check when `visible`, else hex (`41…`); 21 bytes.
fn address(body: &Value, field: &str) -> Result<Vec<u8>, String> {
    let text = body[field].as_str().ok_or_else(|| format!("{field} is required"))?;
    if body["visible"].as_bool().unwrap_or(false) {
        let evm = abi::tron::from_base58(text).map_err(|e| format!("{field}: {e}"))?;
        Ok(crate::tron_address(evm))
    } else {
        let bytes = alloy::hex::decode(text).map_err(|e| format!("{field}: {e}"))?;
        crate::evm_address(&bytes).ok_or_else(|| format!("{field}: not a TRON address"))?;
        Ok(bytes)
    }
}

/// An address in an answer, in the request's form.
fn show(bytes: &[u8], visible: bool) -> Value {
    match (visible, crate::evm_address(bytes)) {
        (true, Some(evm)) => json!(abi::tron::to_base58(evm)),
        _ => json!(alloy::hex::encode(bytes)),
    }
}

fn int(body: &Value, field: &str) -> i64 {
    body[field].as_i64().or_else(|| body[field].as_str().and_then(|s| s.parse().ok())).unwrap_or(0)
}

/// A transaction as java-tron's HTTP API shows it.
fn transaction_json(tx: &Transaction, visible: bool) -> Value {
    let raw = tx.raw_data.clone().unwrap_or_default();
    let contracts: Vec<Value> = raw
        .contract
        .iter()
        .map(|c| {
            let parameter = c.parameter.clone().unwrap_or_default();
            let value = match TriggerSmartContract::decode(parameter.value.as_slice()) {
                Ok(t) if parameter.type_url == crate::wallet::TRIGGER_URL => {
                    let mut v = json!({
                        "owner_address": show(&t.owner_address, visible),
                        "contract_address": show(&t.contract_address, visible),
                        "data": alloy::hex::encode(&t.data),
                    });
                    if t.call_value != 0 {
                        v["call_value"] = json!(t.call_value);
                    }
                    v
                }
                _ => json!({}),
            };
            json!({ "parameter": { "value": value, "type_url": parameter.type_url }, "type": "TriggerSmartContract" })
        })
        .collect();
    let mut raw_json = json!({
        "contract": contracts,
        "ref_block_bytes": alloy::hex::encode(&raw.ref_block_bytes),
        "ref_block_hash": alloy::hex::encode(&raw.ref_block_hash),
        "expiration": raw.expiration,
        "timestamp": raw.timestamp,
    });
    if raw.fee_limit != 0 {
        raw_json["fee_limit"] = json!(raw.fee_limit);
    }
    let mut out = json!({
        "visible": visible,
        "txID": alloy::hex::encode(crate::transaction_id(&raw)),
        "raw_data": raw_json,
        "raw_data_hex": alloy::hex::encode(raw.encode_to_vec()),
    });
    if !tx.signature.is_empty() {
        out["signature"] = json!(tx.signature.iter().map(alloy::hex::encode).collect::<Vec<_>>());
    }
    out
}

fn return_json(ret: &proto::Return) -> Value {
    let code = ResponseCode::try_from(ret.code).unwrap_or(ResponseCode::OtherError);
    let mut v = json!({ "result": ret.result });
    if !ret.result {
        v["code"] = json!(code.as_str_name());
        v["message"] = json!(alloy::hex::encode(&ret.message));
    }
    v
}

async fn get_account(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    let visible = body["visible"].as_bool().unwrap_or(false);
    let who = match address(&body, "address") {
        Ok(a) => a,
        Err(e) => return error(e),
    };
    match node.account(&who).await {
        Ok(account) if account.address.is_empty() => Json(json!({})),
        Ok(account) => Json(json!({
            "address": show(&account.address, visible),
            "balance": account.balance,
            "create_time": account.create_time,
        })),
        Err(e) => error(e.message()),
    }
}

/// The solidity node's account: its balance as of the solidified block.
async fn get_solid_account(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    let Json(mut account) = get_account(State(node.clone()), Json(body.clone())).await;
    if account.get("balance").is_some() {
        let who = address(&body, "address").ok().and_then(|a| crate::evm_address(&a)).expect("read above");
        let balance = match node.solidified().await {
            Ok(solid) => node.anvil.balance_at(who, solid).await,
            Err(e) => Err(e),
        };
        match balance {
            Ok(b) => account["balance"] = json!(crate::sun(b)),
            Err(e) => return error(e),
        }
    }
    Json(account)
}

async fn get_now_block(State(node): State<Arc<Node>>) -> Answer {
    let head = match node.anvil.head().await {
        Ok(h) => h,
        Err(e) => return error(e),
    };
    match node.block_extention(head).await {
        Ok(Some(block)) => {
            let raw = block.block_header.and_then(|h| h.raw_data).unwrap_or_default();
            Json(json!({
                "blockID": alloy::hex::encode(&block.blockid),
                "block_header": { "raw_data": {
                    "number": raw.number,
                    "txTrieRoot": alloy::hex::encode(&raw.tx_trie_root),
                    "witness_address": alloy::hex::encode(&raw.witness_address),
                    "parentHash": alloy::hex::encode(&raw.parent_hash),
                    "version": raw.version,
                    "timestamp": raw.timestamp,
                } },
            }))
        }
        Ok(None) => Json(json!({})),
        Err(e) => error(e.message()),
    }
}

async fn get_chain_parameters(State(node): State<Arc<Node>>) -> Answer {
    let p = &node.params;
    Json(json!({ "chainParameter": [
        { "key": "getTransactionFee", "value": p.transaction_fee },
        { "key": "getEnergyFee", "value": p.energy_fee },
        { "key": "getMaxFeeLimit", "value": p.max_fee_limit },
    ] }))
}

/// The call a request describes: `data`, or the selector of `function_selector` followed by `parameter`.
fn call_of(body: &Value) -> Result<TriggerSmartContract, String> {
    let data = match (body["data"].as_str(), body["function_selector"].as_str()) {
        (Some(data), _) => alloy::hex::decode(data).map_err(|e| format!("data: {e}"))?,
        (None, Some(selector)) => {
            let parameter = alloy::hex::decode(body["parameter"].as_str().unwrap_or_default())
                .map_err(|e| format!("parameter: {e}"))?;
            [&keccak256(selector.as_bytes())[..4], &parameter[..]].concat()
        }
        (None, None) => Vec::new(),
    };
    Ok(TriggerSmartContract {
        owner_address: address(body, "owner_address")?,
        contract_address: address(body, "contract_address")?,
        data,
        call_value: int(body, "call_value"),
        ..Default::default()
    })
}

async fn trigger_smart_contract(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    let visible = body["visible"].as_bool().unwrap_or(false);
    let call = match call_of(&body) {
        Ok(c) => c,
        Err(e) => return error(e),
    };
    match node.trigger(call).await {
        Ok(ext) => {
            let mut out = json!({ "result": return_json(&ext.result.unwrap_or_default()) });
            if let Some(mut tx) = ext.transaction {
                if let Some(raw) = tx.raw_data.as_mut() {
                    raw.fee_limit = int(&body, "fee_limit");
                }
                out["transaction"] = transaction_json(&tx, visible);
            }
            Json(out)
        }
        Err(e) => error(e.message()),
    }
}

async fn trigger_constant_contract(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    let call = match call_of(&body) {
        Ok(c) => c,
        Err(e) => return error(e),
    };
    match node.constant(&call).await {
        Ok(ext) => Json(json!({
            "result": return_json(&ext.result.unwrap_or_default()),
            "energy_used": ext.energy_used,
            "constant_result": ext.constant_result.iter().map(alloy::hex::encode).collect::<Vec<_>>(),
        })),
        Err(e) => error(e.message()),
    }
}

/// A signed transaction: its `raw_data_hex` is what was signed, so it is what the node decodes.
async fn broadcast_transaction(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    let raw = match alloy::hex::decode(body["raw_data_hex"].as_str().unwrap_or_default())
        .map_err(|e| e.to_string())
        .and_then(|b| transaction::Raw::decode(b.as_slice()).map_err(|e| e.to_string()))
    {
        Ok(raw) => raw,
        Err(e) => return error(format!("raw_data_hex: {e}")),
    };
    let signature: Result<Vec<Vec<u8>>, _> = body["signature"]
        .as_array()
        .map(|a| a.iter().map(|s| alloy::hex::decode(s.as_str().unwrap_or_default())).collect())
        .unwrap_or_else(|| Ok(Vec::new()));
    let Ok(signature) = signature else { return error("signature: not hex") };
    let txid = crate::transaction_id(&raw);
    let tx = Transaction { raw_data: Some(raw), signature, ..Default::default() };
    match node.broadcast(tx).await {
        Ok(ret) => {
            let mut out = return_json(&ret);
            out["txid"] = json!(alloy::hex::encode(txid));
            Json(out)
        }
        Err(e) => error(e.message()),
    }
}

/// The full node's info of a transaction: known once in a block (`{}` before, as java-tron answers).
async fn get_transaction_info_by_id(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    transaction_info(&node, &body, false).await
}

/// The solidity node's (TronWeb's `trx.getTransactionInfo`): known once its block is solidified.
async fn get_solid_transaction_info_by_id(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Answer {
    transaction_info(&node, &body, true).await
}

async fn transaction_info(node: &Node, body: &Value, solidified: bool) -> Answer {
    let Some(id) = body["value"].as_str().and_then(|v| v.parse::<B256>().ok()) else {
        return error("value: a transaction id (64 hex)");
    };
    let mined = if solidified { node.solidified_mined(id).await } else { node.mined(id).await };
    match mined {
        Ok(Some((_, info))) => {
            let receipt = info.receipt.unwrap_or_default();
            let mut out = json!({
                "id": alloy::hex::encode(&info.id),
                "fee": info.fee,
                "blockNumber": info.block_number,
                "blockTimeStamp": info.block_time_stamp,
                "contract_address": alloy::hex::encode(&info.contract_address),
                "receipt": {
                    "energy_fee": receipt.energy_fee,
                    "energy_usage_total": receipt.energy_usage_total,
                    "result": transaction::result::ContractResult::try_from(receipt.result)
                        .map(|r| r.as_str_name())
                        .unwrap_or("UNKNOWN"),
                },
                "log": info.log.iter().map(|l| json!({
                    "address": alloy::hex::encode(&l.address),
                    "topics": l.topics.iter().map(alloy::hex::encode).collect::<Vec<_>>(),
                    "data": alloy::hex::encode(&l.data),
                })).collect::<Vec<_>>(),
            });
            if info.result == proto::transaction_info::Code::Failed as i32 {
                out["result"] = json!("FAILED");
                out["resMessage"] = json!(alloy::hex::encode(&info.res_message));
            }
            Json(out)
        }
        Ok(None) => Json(json!({})),
        Err(e) => error(e.message()),
    }
}

//! java-tron's HTTP API (`/wallet/*`, the full node's port 8090), the subset TronWeb uses to read an account, build
//! a contract call, estimate it, broadcast a signed transaction and follow it. Bodies and answers are java-tron's
//! JSON: bytes as hex, addresses as hex `41…` or, with `"visible": true`, base58check. The transactions are the
//! gRPC side's: built, checked and executed by the same code.
//!
//! A body is read up to java-tron's limit ([`crate::HTTP_BODY_MAX_BYTES`]) and every field is bounded
//! (`abi::limits`) before it is parsed; a refusal is java-tron's `{"Error": "..."}`. Large bodies and answers are
//! parsed and written off the async workers, and so is a broadcast transaction's decoding.

use std::sync::Arc;

use abi::limits;
use alloy::primitives::{B256, keccak256};
use axum::{
    Router,
    extract::{FromRequest, Request, State},
    http::header,
    response::{IntoResponse, Response},
    routing::post,
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use prost::Message;
use serde_json::{Value, json};

use crate::codec::INLINE_PROTOBUF_BYTES;
use crate::proto::{
    self, AccountPermissionUpdateContract, Transaction, TransferContract, TriggerSmartContract, r#return::ResponseCode,
    transaction,
};
use crate::work::{blocking, parse_json, write_json};
use crate::{HTTP_BODY_MAX_BYTES, Node, SIGNATURES_MAX};

/// An answer as java-tron's HTTP API writes it: a JSON object, `{"Error": ...}` for a refusal.
type Answer = Value;

/// Routes of the HTTP API.
pub(crate) fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/wallet/getaccount", post(get_account))
        .route("/wallet/getaccountresource", post(get_account_resource))
        .route("/wallet/createtransaction", post(create_transaction))
        .route("/walletsolidity/getaccount", post(get_solid_account))
        .route("/wallet/getnowblock", post(get_now_block).get(get_now_block))
        .route("/wallet/getblock", post(get_block))
        .route("/wallet/getchainparameters", post(get_chain_parameters).get(get_chain_parameters))
        .route("/wallet/triggersmartcontract", post(trigger_smart_contract))
        .route("/wallet/triggerconstantcontract", post(trigger_constant_contract))
        .route("/wallet/broadcasttransaction", post(broadcast_transaction))
        .route("/wallet/getsignweight", post(get_sign_weight))
        .route("/wallet/gettransactioninfobyid", post(get_transaction_info_by_id))
        .route("/walletsolidity/gettransactioninfobyid", post(get_solid_transaction_info_by_id))
        .with_state(node)
}

fn error(message: impl std::fmt::Display) -> Answer {
    json!({ "Error": message.to_string() })
}

/// Writes an answer, off the async workers when it is large.
async fn reply(answer: Answer) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], write_json(answer).await).into_response()
}

/// A request's JSON body: read up to [`HTTP_BODY_MAX_BYTES`] — a longer one is refused as soon as it passes the
/// limit, with java-tron's message — and parsed off the async workers when it is large.
struct Body(Value);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Response;

    async fn from_request(request: Request, _: &S) -> Result<Self, Response> {
        let text = match Limited::new(request.into_body(), HTTP_BODY_MAX_BYTES).collect().await {
            Ok(text) => text.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => {
                return Err(reply(error(format!("body size is too big, the limit is {HTTP_BODY_MAX_BYTES}"))).await);
            }
            Err(e) => return Err(reply(error(format!("body: {e}"))).await),
        };
        match parse_json(text).await {
            Ok(body) => Ok(Self(body)),
            Err(e) => Err(reply(error(format!("body: not JSON: {e}"))).await),
        }
    }
}

fn too_long(field: &str, length: usize, max: usize) -> String {
    format!("{field}: {length} characters, longer than the {max} it may have")
}

/// A text field, refused when longer than `max` before anything parses it; `None` when absent or not text.
fn text<'a>(body: &'a Value, field: &str, max: usize) -> Result<Option<&'a str>, String> {
    match body[field].as_str() {
        Some(text) if !limits::within(text, max) => Err(too_long(field, text.len(), max)),
        text => Ok(text),
    }
}

/// Bytes in hex (with an optional `0x`), at most what a transaction can carry ([`limits::TX_HEX_MAX_LEN`]).
fn hex_text(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if !limits::within(digits, limits::TX_HEX_MAX_LEN) {
        return Err(too_long(field, digits.len(), limits::TX_HEX_MAX_LEN));
    }
    alloy::hex::decode(digits).map_err(|e| format!("{field}: {e}"))
}

fn visible(body: &Value) -> bool {
    body["visible"].as_bool().unwrap_or(false)
}

/// An address from a request: base58check when `visible`, else hex (`41…`); 21 bytes. Its length is checked
/// before it is decoded: base58 decoding is quadratic.
fn address(body: &Value, field: &str) -> Result<Vec<u8>, String> {
    let max = if visible(body) { limits::TRON_ADDRESS_LEN } else { limits::TRON_HEX_ADDRESS_MAX_LEN };
    let text = text(body, field, max)?.ok_or_else(|| format!("{field} is required"))?;
    if visible(body) {
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

/// A SUN amount, a number or its decimal text (0 when it is neither).
fn int(body: &Value, field: &str) -> Result<i64, String> {
    Ok(match text(body, field, limits::AMOUNT_MAX_LEN)? {
        Some(text) => text.parse().unwrap_or(0),
        None => body[field].as_i64().unwrap_or(0),
    })
}

/// A permission as java-tron's JSON shows it (its default values left out: an owner permission has no `type` nor
/// `id`).
fn permission_json(p: &proto::Permission, visible: bool) -> Value {
    let keys: Vec<Value> =
        p.keys.iter().map(|k| json!({ "address": show(&k.address, visible), "weight": k.weight })).collect();
    let mut out = json!({ "permission_name": p.permission_name, "threshold": p.threshold, "keys": keys });
    match proto::permission::PermissionType::try_from(p.r#type) {
        Ok(proto::permission::PermissionType::Owner) | Err(_) => {}
        Ok(kind) => out["type"] = json!(kind.as_str_name()),
    }
    if p.id != 0 {
        out["id"] = json!(p.id);
    }
    if p.parent_id != 0 {
        out["parent_id"] = json!(p.parent_id);
    }
    if !p.operations.is_empty() {
        out["operations"] = json!(alloy::hex::encode(&p.operations));
    }
    out
}

/// A transaction as java-tron's HTTP API shows it.
fn transaction_json(tx: &Transaction, visible: bool) -> Value {
    let raw = tx.raw_data.clone().unwrap_or_default();
    let contracts: Vec<Value> = raw
        .contract
        .iter()
        .map(|c| {
            let mut shown = contract_json(c, visible);
            if c.permission_id != 0 {
                shown["Permission_id"] = json!(c.permission_id);
            }
            shown
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
    if !raw.data.is_empty() {
        raw_json["data"] = json!(alloy::hex::encode(&raw.data));
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

/// One contract of a transaction as java-tron's JSON shows it (without its `Permission_id`).
fn contract_json(c: &transaction::Contract, visible: bool) -> Value {
    let parameter = c.parameter.clone().unwrap_or_default();
    if parameter.type_url == crate::wallet::PERMISSION_UPDATE_URL {
        let u = AccountPermissionUpdateContract::decode(parameter.value.as_slice()).unwrap_or_default();
        let mut value = json!({
            "owner_address": show(&u.owner_address, visible),
            "actives": u.actives.iter().map(|p| permission_json(p, visible)).collect::<Vec<_>>(),
        });
        if let Some(owner) = &u.owner {
            value["owner"] = permission_json(owner, visible);
        }
        return json!({ "parameter": { "value": value, "type_url": parameter.type_url }, "type": "AccountPermissionUpdateContract" });
    }
    if parameter.type_url == crate::wallet::TRANSFER_URL {
        let t = TransferContract::decode(parameter.value.as_slice()).unwrap_or_default();
        let value = json!({
            "amount": t.amount,
            "owner_address": show(&t.owner_address, visible),
            "to_address": show(&t.to_address, visible),
        });
        return json!({ "parameter": { "value": value, "type_url": parameter.type_url }, "type": "TransferContract" });
    }
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

async fn get_account(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    reply(account(&node, &body, false).await).await
}

/// The solidity node's account: its balance as of the solidified block.
async fn get_solid_account(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    reply(account(&node, &body, true).await).await
}

async fn account(node: &Node, body: &Value, solidified: bool) -> Answer {
    let who = match address(body, "address") {
        Ok(a) => a,
        Err(e) => return error(e),
    };
    let mut answer = match node.account(&who).await {
        Ok(account) if account.address.is_empty() => return json!({}),
        Ok(account) => {
            let mut answer = json!({
                "address": show(&account.address, visible(body)),
                "balance": account.balance,
                "create_time": account.create_time,
            });
            if account.free_net_usage != 0 {
                answer["free_net_usage"] = json!(account.free_net_usage);
                answer["latest_consume_free_time"] = json!(account.latest_consume_free_time);
            }
            if let Some(owner) = &account.owner_permission {
                answer["owner_permission"] = permission_json(owner, visible(body));
            }
            answer["active_permission"] =
                json!(account.active_permission.iter().map(|p| permission_json(p, visible(body))).collect::<Vec<_>>());
            answer
        }
        Err(e) => return error(e.message()),
    };
    if solidified {
        let who = crate::evm_address(&who).expect("an address of 21 bytes");
        let balance = match node.solidified().await {
            Ok(solid) => node.anvil.balance_at(who, solid).await,
            Err(e) => Err(e),
        };
        match balance {
            Ok(b) => answer["balance"] = json!(crate::sun(b)),
            Err(e) => return error(e),
        }
    }
    answer
}

/// `/wallet/getaccountresource`: the account's free bandwidth (java-tron's JSON omits what is zero); `{}` for an
/// account that does not exist.
async fn get_account_resource(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    let who = match address(&body, "address") {
        Ok(a) => a,
        Err(e) => return reply(error(e)).await,
    };
    reply(match node.account_resource(&who).await {
        Ok(None) => json!({}),
        Ok(Some(r)) => {
            let mut out = json!({
                "freeNetLimit": r.free_net_limit,
                "TotalNetLimit": r.total_net_limit,
                "TotalEnergyLimit": r.total_energy_limit,
            });
            if r.free_net_used != 0 {
                out["freeNetUsed"] = json!(r.free_net_used);
            }
            out
        }
        Err(e) => error(e.message()),
    })
    .await
}

/// `/wallet/createtransaction`: an unsigned TRX transfer (TronWeb's `transactionBuilder.sendTrx`), validated as
/// java-tron validates one it builds; a refusal is its `{"Error": "class …ContractValidateException : …"}`.
async fn create_transaction(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    let transfer = (|| {
        Ok::<_, String>(TransferContract {
            owner_address: address(&body, "owner_address")?,
            to_address: address(&body, "to_address")?,
            amount: int(&body, "amount")?,
        })
    })();
    let transfer = match transfer {
        Ok(t) => t,
        Err(e) => return reply(error(e)).await,
    };
    let visible = visible(&body);
    reply(match node.transfer(transfer).await {
        Ok(ext) => match (ext.result, ext.transaction) {
            (Some(ret), Some(tx)) if ret.result => transaction_json(&tx, visible),
            (ret, _) => {
                let message = ret.map(|r| r.message).unwrap_or_default();
                let message = String::from_utf8_lossy(&message);
                let message = message.strip_prefix("Contract validate error : ").unwrap_or(&message);
                error(format!("class org.tron.core.exception.ContractValidateException : {message}"))
            }
        },
        Err(e) => error(e.message()),
    })
    .await
}

async fn get_now_block(State(node): State<Arc<Node>>) -> Response {
    let head = match node.anvil.head().await {
        Ok(h) => h,
        Err(e) => return reply(error(e)).await,
    };
    reply(block_json(&node, head).await).await
}

/// `/wallet/getblock` (java-tron ≥ 4.7.2; TronWeb builds transfers on it): the block `id_or_num` names by its number
/// (the head without one), its header only (`detail` is not served).
async fn get_block(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    let number = match text(&body, "id_or_num", limits::HASH_MAX_LEN) {
        Ok(None) => node.anvil.head().await.map_err(|e| e.to_string()),
        Ok(Some(n)) => {
            n.parse::<u64>().map_err(|_| "id_or_num: a block number (block ids are not served here)".to_owned())
        }
        Err(e) => Err(e),
    };
    match number {
        Ok(number) => reply(block_json(&node, number).await).await,
        Err(e) => reply(error(e)).await,
    }
}

/// Block `number`'s id and header as java-tron's HTTP API shows them; `{}` when there is no such block.
async fn block_json(node: &Node, number: u64) -> Answer {
    match node.block_extention(number).await {
        Ok(Some(block)) => {
            let raw = block.block_header.and_then(|h| h.raw_data).unwrap_or_default();
            json!({
                "blockID": alloy::hex::encode(&block.blockid),
                "block_header": { "raw_data": {
                    "number": raw.number,
                    "txTrieRoot": alloy::hex::encode(&raw.tx_trie_root),
                    "witness_address": alloy::hex::encode(&raw.witness_address),
                    "parentHash": alloy::hex::encode(&raw.parent_hash),
                    "version": raw.version,
                    "timestamp": raw.timestamp,
                } },
            })
        }
        Ok(None) => json!({}),
        Err(e) => error(e.message()),
    }
}

async fn get_chain_parameters(State(node): State<Arc<Node>>) -> Response {
    let p = &node.params;
    reply(json!({ "chainParameter": [
        { "key": "getTransactionFee", "value": p.transaction_fee },
        { "key": "getEnergyFee", "value": p.energy_fee },
        { "key": "getMaxFeeLimit", "value": p.max_fee_limit },
        { "key": "getCreateAccountFee", "value": p.create_account_fee },
        { "key": "getCreateNewAccountFeeInSystemContract", "value": p.create_new_account_fee_in_system_contract },
        { "key": "getFreeNetLimit", "value": p.free_net_limit },
        { "key": "getMaxCreateAccountTxSize", "value": p.max_create_account_tx_size },
        { "key": "getUpdateAccountPermissionFee", "value": p.update_account_permission_fee },
        { "key": "getMultiSignFee", "value": p.multi_sign_fee },
        { "key": "getTotalSignNum", "value": SIGNATURES_MAX },
        { "key": "getAllowMultiSign", "value": 1 },
    ] }))
    .await
}

/// The call a request describes: `data`, or the selector of `function_selector` followed by `parameter`.
fn call_of(body: &Value) -> Result<TriggerSmartContract, String> {
    let selector = text(body, "function_selector", limits::FUNCTION_SIGNATURE_MAX_LEN)?;
    let data = match (body["data"].as_str(), selector) {
        (Some(data), _) => hex_text("data", data)?,
        (None, Some(selector)) => {
            let parameter = hex_text("parameter", body["parameter"].as_str().unwrap_or_default())?;
            [&keccak256(selector.as_bytes())[..4], &parameter[..]].concat()
        }
        (None, None) => Vec::new(),
    };
    Ok(TriggerSmartContract {
        owner_address: address(body, "owner_address")?,
        contract_address: address(body, "contract_address")?,
        data,
        call_value: int(body, "call_value")?,
        ..Default::default()
    })
}

async fn trigger_smart_contract(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    let (call, fee_limit) = match call_of(&body).and_then(|call| Ok((call, int(&body, "fee_limit")?))) {
        Ok(request) => request,
        Err(e) => return reply(error(e)).await,
    };
    // java-tron's `Util.setTransactionPermissionId`: the permission the transaction will be signed under.
    let permission_id = match int(&body, "Permission_id") {
        Ok(id) => i32::try_from(id).unwrap_or(0).max(0),
        Err(e) => return reply(error(e)).await,
    };
    let visible = visible(&body);
    reply(match node.trigger(call, permission_id).await {
        Ok(ext) => {
            let mut out = json!({ "result": return_json(&ext.result.unwrap_or_default()) });
            if let Some(mut tx) = ext.transaction {
                let raw = tx.raw_data.get_or_insert_default();
                raw.fee_limit = fee_limit;
                out["transaction"] = if raw.encoded_len() > INLINE_PROTOBUF_BYTES {
                    blocking(move || transaction_json(&tx, visible)).await
                } else {
                    transaction_json(&tx, visible)
                };
            }
            out
        }
        Err(e) => error(e.message()),
    })
    .await
}

async fn trigger_constant_contract(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    let call = match call_of(&body) {
        Ok(c) => c,
        Err(e) => return reply(error(e)).await,
    };
    reply(match node.constant(&call).await {
        Ok(ext) => json!({
            "result": return_json(&ext.result.unwrap_or_default()),
            "energy_used": ext.energy_used,
            "constant_result": ext.constant_result.iter().map(alloy::hex::encode).collect::<Vec<_>>(),
        }),
        Err(e) => error(e.message()),
    })
    .await
}

/// A signed transaction as a broadcast carries it: its `raw_data_hex` is what was signed, so it is what the node
/// decodes (with its id); at most [`SIGNATURES_MAX`] signatures, each checked for length before it is decoded.
fn signed_transaction(body: &Value) -> Result<(Transaction, B256), String> {
    let raw = hex_text("raw_data_hex", body["raw_data_hex"].as_str().unwrap_or_default())?;
    let raw = transaction::Raw::decode(raw.as_slice()).map_err(|e| format!("raw_data_hex: {e}"))?;
    let signature = match body["signature"].as_array() {
        Some(all) if all.len() > SIGNATURES_MAX => {
            return Err(format!("signature: {} signatures, more than the {SIGNATURES_MAX} allowed", all.len()));
        }
        Some(all) => all
            .iter()
            .map(|s| {
                let s = s.as_str().unwrap_or_default();
                if !limits::within(s, limits::SIGNATURE_MAX_LEN) {
                    return Err(too_long("signature", s.len(), limits::SIGNATURE_MAX_LEN));
                }
                alloy::hex::decode(s).map_err(|_| "signature: not hex".to_owned())
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let txid = crate::transaction_id(&raw);
    Ok((Transaction { raw_data: Some(raw), signature, ..Default::default() }, txid))
}

async fn broadcast_transaction(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    // Decoding up to 500 kB of protobuf and hashing it: off the async workers.
    let (tx, txid) = match blocking(move || signed_transaction(&body)).await {
        Ok(signed) => signed,
        Err(e) => return reply(error(e)).await,
    };
    reply(match node.broadcast(tx).await {
        Ok(ret) => {
            let mut out = return_json(&ret);
            out["txid"] = json!(alloy::hex::encode(txid));
            out
        }
        Err(e) => error(e.message()),
    })
    .await
}

/// A transaction from its JSON as java-tron's `Util.packTransaction` reads it: from `raw_data` — not
/// `raw_data_hex` — with its `signature`s (contract calls and TRX transfers). What TronWeb posts to
/// `getsignweight` after setting a `Permission_id` in `raw_data` (so its `txID` and `raw_data_hex` are stale).
fn pack_transaction(body: &Value) -> Result<Transaction, String> {
    let raw = &body["raw_data"];
    let [contract] = raw["contract"].as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err("raw_data.contract: one contract".into());
    };
    let value = &contract["parameter"]["value"];
    let in_body = |v: &Value| {
        let mut v = v.clone();
        v["visible"] = json!(visible(body));
        v
    };
    let (kind, url, message) = match contract["type"].as_str() {
        Some("TriggerSmartContract") => {
            let v = in_body(value);
            let call = TriggerSmartContract {
                owner_address: address(&v, "owner_address")?,
                contract_address: address(&v, "contract_address")?,
                data: hex_text("data", v["data"].as_str().unwrap_or_default())?,
                call_value: int(&v, "call_value")?,
                ..Default::default()
            };
            (
                transaction::contract::ContractType::TriggerSmartContract,
                crate::wallet::TRIGGER_URL,
                call.encode_to_vec(),
            )
        }
        Some("TransferContract") => {
            let v = in_body(value);
            let transfer = TransferContract {
                owner_address: address(&v, "owner_address")?,
                to_address: address(&v, "to_address")?,
                amount: int(&v, "amount")?,
            };
            (
                transaction::contract::ContractType::TransferContract,
                crate::wallet::TRANSFER_URL,
                transfer.encode_to_vec(),
            )
        }
        other => {
            return Err(format!(
                "raw_data.contract[0].type {other:?}: this test node packs contract calls and transfers only"
            ));
        }
    };
    let permission_id = i32::try_from(contract["Permission_id"].as_i64().unwrap_or(0)).map_err(|e| e.to_string())?;
    let hex = |field: &str| hex_text(field, raw[field].as_str().unwrap_or_default());
    let number = |field: &str| raw[field].as_i64().unwrap_or(0);
    let raw_data = transaction::Raw {
        ref_block_bytes: hex("ref_block_bytes")?,
        ref_block_hash: hex("ref_block_hash")?,
        expiration: number("expiration"),
        data: hex("data")?,
        timestamp: number("timestamp"),
        fee_limit: number("fee_limit"),
        contract: vec![transaction::Contract {
            r#type: kind as i32,
            parameter: Some(prost_types::Any { type_url: url.into(), value: message }),
            permission_id,
            ..Default::default()
        }],
        ..Default::default()
    };
    let signature = match body["signature"].as_array() {
        Some(all) if all.len() > SIGNATURES_MAX => {
            return Err(format!("signature: {} signatures, more than the {SIGNATURES_MAX} allowed", all.len()));
        }
        Some(all) => {
            all.iter().map(|s| hex_text("signature", s.as_str().unwrap_or_default())).collect::<Result<_, _>>()?
        }
        None => Vec::new(),
    };
    Ok(Transaction { raw_data: Some(raw_data), signature, ..Default::default() })
}

/// `/wallet/getsignweight` (TronWeb's `trx.getSignWeight`, and its `multiSign` for a transaction without a
/// `Permission_id`): java-tron's `TransactionSignWeight` as its `Util.printTransactionSignWeight` writes it.
async fn get_sign_weight(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    let visible = visible(&body);
    let tx = match pack_transaction(&body) {
        Ok(tx) => tx,
        Err(e) => return reply(error(e)).await,
    };
    reply(match node.sign_weight(tx).await {
        Ok(weight) => {
            let mut out = json!({});
            if let Some(p) = &weight.permission {
                out["permission"] = permission_json(p, visible);
            }
            if !weight.approved_list.is_empty() {
                out["approved_list"] = json!(weight.approved_list.iter().map(|a| show(a, visible)).collect::<Vec<_>>());
            }
            if weight.current_weight != 0 {
                out["current_weight"] = json!(weight.current_weight);
            }
            let verdict = weight.result.unwrap_or_default();
            let mut result = json!({});
            if verdict.code != 0 {
                result["code"] = json!(
                    proto::transaction_sign_weight::result::ResponseCode::try_from(verdict.code)
                        .map(|c| c.as_str_name())
                        .unwrap_or("OTHER_ERROR")
                );
            }
            if !verdict.message.is_empty() {
                result["message"] = json!(verdict.message);
            }
            out["result"] = result;
            if let Some(ext) = &weight.transaction {
                out["transaction"] = json!({
                    "result": { "result": true },
                    "txid": alloy::hex::encode(&ext.txid),
                    "transaction": transaction_json(ext.transaction.as_ref().expect("built with one"), visible),
                });
            }
            out
        }
        Err(e) => error(e.message()),
    })
    .await
}

/// The full node's info of a transaction: known once in a block (`{}` before, as java-tron answers).
async fn get_transaction_info_by_id(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    reply(transaction_info(&node, &body, false).await).await
}

/// The solidity node's (TronWeb's `trx.getTransactionInfo`): known once its block is solidified.
async fn get_solid_transaction_info_by_id(State(node): State<Arc<Node>>, Body(body): Body) -> Response {
    reply(transaction_info(&node, &body, true).await).await
}

async fn transaction_info(node: &Node, body: &Value, solidified: bool) -> Answer {
    let id = match text(body, "value", limits::HASH_MAX_LEN) {
        Ok(id) => id.and_then(|v| v.parse::<B256>().ok()),
        Err(e) => return error(e),
    };
    let Some(id) = id else {
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
                    "net_usage": receipt.net_usage,
                    "net_fee": receipt.net_fee,
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
            out
        }
        Ok(None) => json!({}),
        Err(e) => error(e.message()),
    }
}

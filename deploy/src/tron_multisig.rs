//! TRON's multi-signature account as the contract's admin: there is no Safe on TRON; an account is a multisig when
//! its permissions say so (java-tron's `AccountPermissionUpdateContract`). Its owner permission — which alone may
//! change the permissions again — and every active permission that may call contracts (`TriggerSmartContract`) must
//! need more than one key: a threshold of at least 2 that no single key's weight reaches ([`multisig_problem`]).
//!
//! * [`create`] turns an existing account into one, signed by its current key (as on Nile: `referral-deploy
//!   tron-multisig --owners T…,T…,T… --threshold 2`): the owner and one active permission (contract calls only) over
//!   the owners' keys, each of weight 1. It costs java-tron's `getUpdateAccountPermissionFee` (100 TRX on mainnet).
//! * [`build_call`], [`sign`], [`send`]: an admin call of the Settlement contract as such an account makes it — a
//!   `TriggerSmartContract` with the active permission's id (`Permission_id`), written as the JSON TronWeb reads
//!   (`txID`, `raw_data`, `raw_data_hex`, `signature`), signed by each owner in turn (with this tool, TronWeb's
//!   `trx.multiSign` or a wallet), then broadcast once it carries the threshold's weight. A transaction lives at most
//!   24 hours (java-tron's limit): collect the signatures within its expiration.

use std::time::Duration;

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use prost::Message;
use serde_json::{Value, json};

use crate::{
    admin::Action,
    tron_wire::{
        self, Wallet,
        proto::{self, permission::PermissionType, transaction::contract::ContractType},
    },
};

/// java-tron's type number of `TriggerSmartContract`: its bit in a permission's operations.
const TRIGGER_SMART_CONTRACT: usize = 31;
/// Most keys a permission may have (java-tron's `getTotalSignNum`).
pub const MAX_KEYS: usize = 5;
/// What an account permission update costs when the node does not say (mainnet's `getUpdateAccountPermissionFee`).
const DEFAULT_UPDATE_FEE_SUN: i64 = 100_000_000;

/// A key of a permission, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    /// Its `T…` address.
    pub address: String,
    /// Its weight.
    pub weight: i64,
}

/// A permission of a TRON account, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PermissionRecord {
    /// 0 the owner, 2 and up the actives.
    pub id: i32,
    /// Its name.
    pub name: String,
    /// The weight a transaction's signatures must reach.
    pub threshold: i64,
    /// Its keys.
    pub keys: Vec<KeyRecord>,
    /// For an active permission, whether it may call contracts (`TriggerSmartContract`).
    pub calls_contracts: bool,
}

/// A TRON account's permissions, as the deployment records its admin.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountRecord {
    /// The account's `T…` address.
    pub address: String,
    /// The owner permission.
    pub owner: PermissionRecord,
    /// The active permissions.
    pub actives: Vec<PermissionRecord>,
}

/// Whether `permission` may send a contract of type `contract_type` (its operations bit).
fn allows(permission: &proto::Permission, contract_type: usize) -> bool {
    permission.operations.get(contract_type / 8).is_some_and(|b| b & (1 << (contract_type % 8)) != 0)
}

/// The owner permission of `account` (java-tron's default — its own key alone — when it has none).
fn owner_of(account: &proto::Account) -> proto::Permission {
    account.owner_permission.clone().unwrap_or_else(|| proto::Permission {
        r#type: PermissionType::Owner as i32,
        permission_name: "owner".into(),
        threshold: 1,
        keys: vec![proto::Key { address: account.address.clone(), weight: 1 }],
        ..Default::default()
    })
}

fn base58(bytes: &[u8]) -> String {
    tron_wire::evm_address(bytes).map_or_else(|| alloy::hex::encode(bytes), abi::tron::to_base58)
}

fn record_permission(p: &proto::Permission) -> PermissionRecord {
    PermissionRecord {
        id: p.id,
        name: p.permission_name.clone(),
        threshold: p.threshold,
        keys: p.keys.iter().map(|k| KeyRecord { address: base58(&k.address), weight: k.weight }).collect(),
        calls_contracts: p.r#type == PermissionType::Owner as i32 || allows(p, TRIGGER_SMART_CONTRACT),
    }
}

/// `account`'s permissions as recorded.
pub fn record(account: &proto::Account) -> AccountRecord {
    AccountRecord {
        address: base58(&account.address),
        owner: record_permission(&owner_of(account)),
        actives: account.active_permission.iter().map(record_permission).collect(),
    }
}

/// Every key in `account`'s owner and active permissions.
pub fn keys(account: &proto::Account) -> Vec<Address> {
    let owner = owner_of(account);
    let mut all: Vec<Address> = std::iter::once(&owner)
        .chain(&account.active_permission)
        .flat_map(|p| p.keys.iter().filter_map(|k| tron_wire::evm_address(&k.address)))
        .collect();
    all.sort();
    all.dedup();
    all
}

fn single_key_problem(what: &str, p: &proto::Permission) -> Option<String> {
    let strongest = p.keys.iter().map(|k| k.weight).max().unwrap_or(0);
    let total: i64 = p.keys.iter().map(|k| k.weight).sum();
    if p.threshold < 2 || strongest >= p.threshold {
        let who = p.keys.iter().find(|k| k.weight >= p.threshold).map(|k| base58(&k.address)).unwrap_or_default();
        return Some(format!(
            "its {what} permission ({:?}) lets one key act alone (threshold {}, key {who} of weight {strongest})",
            p.permission_name, p.threshold
        ));
    }
    if total < p.threshold {
        return Some(format!(
            "its {what} permission ({:?}) can never be satisfied (threshold {}, all keys weigh {total})",
            p.permission_name, p.threshold
        ));
    }
    None
}

/// Why `account` is not a multi-signature account that may administer a contract, or `None` when it is one: its
/// owner permission, and every active permission that may call contracts, need a weight of at least 2 that no single
/// key reaches.
pub fn multisig_problem(account: &proto::Account) -> Option<String> {
    if let Some(why) = single_key_problem("owner", &owner_of(account)) {
        return Some(why);
    }
    account
        .active_permission
        .iter()
        .filter(|p| allows(p, TRIGGER_SMART_CONTRACT))
        .find_map(|p| single_key_problem(&format!("active (id {})", p.id), p))
}

/// The operations bitmap allowing `TriggerSmartContract` only: the admin account's active permission calls the
/// Settlement contract and nothing else (moving its TRX or changing its permissions needs the owner permission).
pub fn contract_calls_only() -> Vec<u8> {
    let mut ops = vec![0u8; 32];
    ops[TRIGGER_SMART_CONTRACT / 8] |= 1 << (TRIGGER_SMART_CONTRACT % 8);
    ops
}

/// What [`create`] did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Created {
    /// The permission update's transaction, if one was sent (`None`: a dry run).
    pub tx: Option<B256>,
    /// Its block.
    pub block: Option<i64>,
    /// What it cost (SUN).
    pub fee: Option<i64>,
    /// The account's permissions after it (before, in a dry run).
    pub account: AccountRecord,
}

/// Makes the account of `key` a multi-signature account: owner and active permission (contract calls only) over
/// `owners`, each key of weight 1, `threshold` of them needed. Checks first: the account exists, `key` may change
/// its permissions alone, 2 to 5 distinct owners, a threshold from 2 to their number, the TRX for java-tron's fee.
/// A dry run checks and sends nothing.
pub async fn create(
    wallet: &mut Wallet,
    key: &PrivateKeySigner,
    owners: &[Address],
    threshold: i64,
    dry_run: bool,
) -> eyre::Result<Created> {
    let me = key.address();
    let mine = abi::tron::to_base58(me);
    let mut distinct = owners.to_vec();
    distinct.sort();
    distinct.dedup();
    eyre::ensure!(distinct.len() == owners.len(), "an owner is named twice; nothing was sent");
    eyre::ensure!(
        (2..=MAX_KEYS).contains(&owners.len()),
        "{} owners: a multi-signature account has 2 to {MAX_KEYS} (java-tron's limit); nothing was sent",
        owners.len()
    );
    eyre::ensure!(
        threshold >= 2 && threshold as usize <= owners.len(),
        "a threshold of {threshold} of {} owners: at least 2 (one key alone is not a multisig), at most the owners; \
         nothing was sent",
        owners.len()
    );
    let account = tron_wire::account(wallet, me).await?.ok_or_else(|| {
        eyre::eyre!(
            "{mine} does not exist on this network: send it TRX first (the fee and the bandwidth); nothing was sent"
        )
    })?;
    let owner = owner_of(&account);
    let my_weight = owner.keys.iter().find(|k| tron_wire::evm_address(&k.address) == Some(me)).map_or(0, |k| k.weight);
    eyre::ensure!(
        my_weight >= owner.threshold,
        "{mine}'s owner permission needs {} of weight, its own key has {my_weight}: it is a multisig already (or \
         another key owns it); change it with its owners' signatures; nothing was sent",
        owner.threshold
    );
    let fee =
        tron_wire::chain_parameter(wallet, "getUpdateAccountPermissionFee").await?.unwrap_or(DEFAULT_UPDATE_FEE_SUN);
    eyre::ensure!(
        account.balance >= fee,
        "{mine} holds {} SUN, the permission update costs {fee} SUN (java-tron's getUpdateAccountPermissionFee) plus \
         its bandwidth: send it TRX; nothing was sent",
        account.balance
    );
    let keys: Vec<proto::Key> =
        owners.iter().map(|o| proto::Key { address: tron_wire::tron_bytes(*o), weight: 1 }).collect();
    let update = proto::AccountPermissionUpdateContract {
        owner_address: tron_wire::tron_bytes(me),
        owner: Some(proto::Permission {
            r#type: PermissionType::Owner as i32,
            id: 0,
            permission_name: "owner".into(),
            threshold,
            keys: keys.clone(),
            ..Default::default()
        }),
        witness: None,
        actives: vec![proto::Permission {
            r#type: PermissionType::Active as i32,
            id: 2,
            permission_name: "active".into(),
            threshold,
            operations: contract_calls_only(),
            keys,
            ..Default::default()
        }],
    };
    if dry_run {
        return Ok(Created { tx: None, block: None, fee: None, account: record(&account) });
    }
    let mut tx = tron_wire::unsigned(
        wallet,
        ContractType::AccountPermissionUpdateContract,
        "AccountPermissionUpdateContract",
        update.encode_to_vec(),
        0,
        0,
        Duration::from_secs(60),
    )
    .await?;
    let txid = tron_wire::transaction_id(tx.raw_data.as_ref().expect("built with raw data"));
    tx.signature.push(tron_wire::sign_id(txid, key)?);
    let included = tron_wire::broadcast_and_wait(wallet, &tx, Duration::from_secs(60)).await?;
    eyre::ensure!(included.success, "the permission update {txid} failed: {}", included.message);
    let after = tron_wire::account(wallet, me).await?.ok_or_else(|| eyre::eyre!("{mine} vanished"))?;
    if let Some(why) = multisig_problem(&after) {
        eyre::bail!("after {txid}, {mine} is still no multisig: {why}");
    }
    let recorded = record(&after);
    let mut wanted: Vec<String> = owners.iter().map(|o| abi::tron::to_base58(*o)).collect();
    wanted.sort();
    let mut got: Vec<String> = recorded.owner.keys.iter().map(|k| k.address.clone()).collect();
    got.sort();
    eyre::ensure!(
        got == wanted && recorded.owner.threshold == threshold,
        "after {txid} the owner permission is {:?}",
        recorded.owner
    );
    Ok(Created { tx: Some(txid), block: Some(included.block), fee: Some(included.info.fee), account: recorded })
}

/// The permission an admin call of `account` goes out under: its first active permission that may call contracts,
/// else the owner permission.
pub fn call_permission(account: &proto::Account) -> proto::Permission {
    let mut actives: Vec<&proto::Permission> =
        account.active_permission.iter().filter(|p| allows(p, TRIGGER_SMART_CONTRACT)).collect();
    actives.sort_by_key(|p| p.id);
    actives.first().map_or_else(|| owner_of(account), |p| (*p).clone())
}

/// The admin's call `action` of the Settlement contract `settlement`, as the account `admin` makes it: unsigned,
/// under [`call_permission`]'s id, with `fee_limit` SUN and an expiration `expires_in` after the head block (at most
/// 24 hours), as TronWeb's JSON.
pub async fn build_call(
    wallet: &mut Wallet,
    settlement: Address,
    admin: Address,
    action: &Action,
    fee_limit: i64,
    expires_in: Duration,
) -> eyre::Result<(Value, proto::Permission)> {
    eyre::ensure!(expires_in <= Duration::from_secs(24 * 3600), "a TRON transaction expires within 24 hours at most");
    let account = tron_wire::account(wallet, admin)
        .await?
        .ok_or_else(|| eyre::eyre!("the admin {} does not exist on this network", abi::tron::to_base58(admin)))?;
    let permission = call_permission(&account);
    let call = proto::TriggerSmartContract {
        owner_address: tron_wire::tron_bytes(admin),
        contract_address: tron_wire::tron_bytes(settlement),
        data: action.calldata(),
        ..Default::default()
    };
    let tx = tron_wire::unsigned(
        wallet,
        ContractType::TriggerSmartContract,
        "TriggerSmartContract",
        call.encode_to_vec(),
        permission.id,
        fee_limit,
        expires_in,
    )
    .await?;
    Ok((to_json(&tx)?, permission))
}

/// A transaction of ours as TronWeb's JSON (`visible: false`: addresses in hex). Only `TriggerSmartContract`
/// transactions are written so.
pub fn to_json(tx: &proto::Transaction) -> eyre::Result<Value> {
    let raw = tx.raw_data.as_ref().ok_or_else(|| eyre::eyre!("a transaction without raw data"))?;
    let [contract] = raw.contract.as_slice() else { eyre::bail!("a transaction of one contract") };
    let parameter = contract.parameter.as_ref().ok_or_else(|| eyre::eyre!("a contract without parameter"))?;
    eyre::ensure!(contract.r#type == ContractType::TriggerSmartContract as i32, "only contract calls are written");
    let call = proto::TriggerSmartContract::decode(parameter.value.as_slice())?;
    let mut value = json!({
        "data": alloy::hex::encode(&call.data),
        "owner_address": alloy::hex::encode(&call.owner_address),
        "contract_address": alloy::hex::encode(&call.contract_address),
    });
    if call.call_value != 0 {
        value["call_value"] = json!(call.call_value);
    }
    let mut contract_json = json!({
        "parameter": { "value": value, "type_url": parameter.type_url },
        "type": "TriggerSmartContract",
    });
    if contract.permission_id != 0 {
        contract_json["Permission_id"] = json!(contract.permission_id);
    }
    let mut out = json!({
        "visible": false,
        "txID": alloy::hex::encode(tron_wire::transaction_id(raw)),
        "raw_data": {
            "contract": [contract_json],
            "ref_block_bytes": alloy::hex::encode(&raw.ref_block_bytes),
            "ref_block_hash": alloy::hex::encode(&raw.ref_block_hash),
            "expiration": raw.expiration,
            "fee_limit": raw.fee_limit,
            "timestamp": raw.timestamp,
        },
        "raw_data_hex": alloy::hex::encode(raw.encode_to_vec()),
    });
    if !tx.signature.is_empty() {
        out["signature"] = json!(tx.signature.iter().map(alloy::hex::encode).collect::<Vec<_>>());
    }
    Ok(out)
}

/// A transaction file read back: its bytes (`raw_data_hex`, what is signed — never the readable `raw_data`) and its
/// signatures, its id checked against `txID`.
pub fn from_json(file: &Value) -> eyre::Result<(proto::Transaction, B256)> {
    let hex =
        file["raw_data_hex"].as_str().ok_or_else(|| eyre::eyre!("no raw_data_hex: not a TRON transaction file"))?;
    let raw = proto::transaction::Raw::decode(alloy::hex::decode(hex)?.as_slice())?;
    let txid = tron_wire::transaction_id(&raw);
    let named: Option<B256> = file["txID"].as_str().and_then(|t| t.trim_start_matches("0x").parse().ok());
    eyre::ensure!(
        named == Some(txid),
        "txID {:?} is not the id of raw_data_hex ({txid}): the file was altered",
        file["txID"]
    );
    let signature = match file["signature"].as_array() {
        None => Vec::new(),
        Some(all) => all
            .iter()
            .map(|s| alloy::hex::decode(s.as_str().unwrap_or_default()).map_err(|e| eyre::eyre!("signature: {e}")))
            .collect::<eyre::Result<_>>()?,
    };
    Ok((proto::Transaction { raw_data: Some(raw), signature, ..Default::default() }, txid))
}

/// What a transaction file asks for, as its signers read it: who calls which contract with what, under which
/// permission, until when, and who has signed.
pub fn describe(tx: &proto::Transaction, txid: B256) -> eyre::Result<String> {
    let raw = tx.raw_data.as_ref().ok_or_else(|| eyre::eyre!("no raw data"))?;
    let [contract] = raw.contract.as_slice() else { eyre::bail!("a transaction of one contract") };
    let parameter = contract.parameter.as_ref().ok_or_else(|| eyre::eyre!("a contract without parameter"))?;
    eyre::ensure!(contract.r#type == ContractType::TriggerSmartContract as i32, "not a contract call");
    let call = proto::TriggerSmartContract::decode(parameter.value.as_slice())?;
    let what = Action::decode(&call.data).map_or_else(
        || format!("an unknown call (data {})", alloy::hex::encode_prefixed(&call.data)),
        |a| a.to_string(),
    );
    let signed: Vec<String> = tx
        .signature
        .iter()
        .map(|s| {
            tron_wire::signer_of(txid, s).map(abi::tron::to_base58).unwrap_or_else(|e| format!("unreadable ({e})"))
        })
        .collect();
    Ok(format!(
        "transaction {txid}: {} calls {} {what}, permission {}, fee limit {} SUN, expires at {} (Unix ms); signed by [{}]",
        base58(&call.owner_address),
        base58(&call.contract_address),
        contract.permission_id,
        raw.fee_limit,
        raw.expiration,
        signed.join(", ")
    ))
}

/// Adds `key`'s signature to the transaction file `file`; refuses a key that signed it already.
pub fn sign(file: &Value, key: &PrivateKeySigner) -> eyre::Result<Value> {
    let (mut tx, txid) = from_json(file)?;
    for s in &tx.signature {
        eyre::ensure!(
            tron_wire::signer_of(txid, s).ok() != Some(key.address()),
            "{} has signed this transaction already",
            abi::tron::to_base58(key.address())
        );
    }
    tx.signature.push(tron_wire::sign_id(txid, key)?);
    let mut out = file.clone();
    out["signature"] = json!(tx.signature.iter().map(alloy::hex::encode).collect::<Vec<_>>());
    Ok(out)
}

/// The node's view of a transaction's signatures (`GetTransactionSignWeight`): the weight they carry, the
/// permission's threshold, and java-tron's verdict.
pub async fn sign_weight(wallet: &mut Wallet, tx: &proto::Transaction) -> eyre::Result<(i64, i64, String, String)> {
    let weight = wallet.get_transaction_sign_weight(tx.clone()).await?.into_inner();
    let result = weight.result.unwrap_or_default();
    let code = proto::transaction_sign_weight::result::ResponseCode::try_from(result.code)
        .map(|c| c.as_str_name().to_owned())
        .unwrap_or_default();
    Ok((weight.current_weight, weight.permission.map_or(0, |p| p.threshold), code, result.message))
}

/// Broadcasts the signed transaction file `file` and waits for its block; refused before it is sent when the node
/// says its signatures do not carry the permission's threshold.
pub async fn send(wallet: &mut Wallet, file: &Value) -> eyre::Result<tron_wire::Included> {
    let (tx, txid) = from_json(file)?;
    let (weight, threshold, code, message) = sign_weight(wallet, &tx).await?;
    eyre::ensure!(
        code == "ENOUGH_PERMISSION",
        "transaction {txid} carries a weight of {weight} of the {threshold} its permission needs ({code} {message}): \
         collect more owners' signatures; nothing was sent"
    );
    let included = tron_wire::broadcast_and_wait(wallet, &tx, Duration::from_secs(60)).await?;
    eyre::ensure!(included.success, "transaction {txid} failed in block {}: {}", included.block, included.message);
    Ok(included)
}

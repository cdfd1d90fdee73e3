//! Account permissions on the test node, as java-tron has them: an `AccountPermissionUpdateContract` validated with
//! `AccountPermissionUpdateActuator`'s rules and messages and charged its fee; transactions signed under the
//! permission they name (`Permission_id`), their signatures weighed against its threshold (java-tron's messages for
//! a short weight, an unknown signer, a key twice, too many signatures, an operation the permission does not allow);
//! `GetAccount` and `GetTransactionSignWeight` reporting them. And the independence check: TronWeb's own
//! `multiSign` of a Settlement admin call by two owners of the admin's multi-signature account is accepted and
//! executes as that account; one owner alone is refused.

use abi::Settlement;
use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::devchain::DevChain;
use prost::Message;
use serde_json::{Value, json};
use tron_devnode::{
    Params, TronDevnode,
    proto::{
        self, AccountPermissionUpdateContract, Key, Permission, Transaction, TriggerSmartContract,
        permission::PermissionType, r#return::ResponseCode, transaction, transaction_sign_weight,
        wallet_client::WalletClient,
    },
    tron_address,
};

type Wallet = WalletClient<tonic::transport::Channel>;

/// A million TRX, in SUN.
const FUNDS: u64 = 1_000_000_000_000;
const FEE_LIMIT: i64 = 100_000_000;
/// The operations bitmap of `TriggerSmartContract` (31) alone.
const CALLS_ONLY: &str = "0000008000000000000000000000000000000000000000000000000000000000";

struct Setup {
    chain: DevChain,
    node: TronDevnode,
    wallet: Wallet,
    /// The account made a multisig (the Settlement's admin: the chain's admin key's account).
    account: PrivateKeySigner,
    owners: Vec<PrivateKeySigner>,
}

async fn setup() -> eyre::Result<Setup> {
    let chain = DevChain::start_tron().await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    let wallet = WalletClient::connect(node.grpc_url.clone()).await?;
    let account = chain.admin.clone();
    chain.provider.anvil_set_balance(account.address(), U256::from(FUNDS)).await?;
    let owners: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    Ok(Setup { chain, node, wallet, account, owners })
}

fn permission(kind: PermissionType, threshold: i64, keys: &[Address], operations: &str) -> Permission {
    Permission {
        r#type: kind as i32,
        permission_name: if kind == PermissionType::Owner { "owner" } else { "active" }.into(),
        threshold,
        keys: keys.iter().map(|k| Key { address: tron_address(*k), weight: 1 }).collect(),
        operations: alloy::hex::decode(operations).unwrap(),
        ..Default::default()
    }
}

fn update(owner: Address, owner_permission: Permission, actives: Vec<Permission>) -> AccountPermissionUpdateContract {
    AccountPermissionUpdateContract {
        owner_address: tron_address(owner),
        owner: Some(owner_permission),
        witness: None,
        actives,
    }
}

/// A transaction of one contract (`type_name`, `message`) under `permission_id`, referencing the head.
async fn transaction(
    s: &mut Setup,
    kind: transaction::contract::ContractType,
    type_name: &str,
    message: Vec<u8>,
    permission_id: i32,
) -> eyre::Result<Transaction> {
    let head = s.wallet.get_now_block2(proto::EmptyMessage {}).await?.into_inner();
    let time = head.block_header.and_then(|h| h.raw_data).map(|r| r.timestamp).unwrap_or_default();
    let raw = transaction::Raw {
        ref_block_bytes: head.blockid[6..8].to_vec(),
        ref_block_hash: head.blockid[8..16].to_vec(),
        expiration: time + 60_000,
        timestamp: time,
        fee_limit: FEE_LIMIT,
        contract: vec![transaction::Contract {
            r#type: kind as i32,
            parameter: Some(prost_types::Any {
                type_url: format!("type.googleapis.com/protocol.{type_name}"),
                value: message,
            }),
            permission_id,
            ..Default::default()
        }],
        ..Default::default()
    };
    Ok(Transaction { raw_data: Some(raw), ..Default::default() })
}

fn signed_by(mut tx: Transaction, keys: &[&PrivateKeySigner]) -> Transaction {
    let txid = tron_devnode::transaction_id(tx.raw_data.as_ref().unwrap());
    for key in keys {
        let mut one = tx.clone();
        tron_devnode::sign_transaction(&mut one, key.to_bytes().as_slice()).unwrap();
        tx.signature.push(one.signature.remove(0));
    }
    assert!(tx.signature.len() == keys.len() && txid == tron_devnode::transaction_id(tx.raw_data.as_ref().unwrap()));
    tx
}

async fn broadcast(s: &mut Setup, tx: Transaction) -> eyre::Result<(ResponseCode, String)> {
    let ret = s.wallet.broadcast_transaction(tx).await?.into_inner();
    Ok((ret.code(), String::from_utf8_lossy(&ret.message).into_owned()))
}

async fn permission_update(s: &mut Setup, u: &AccountPermissionUpdateContract) -> eyre::Result<(ResponseCode, String)> {
    use transaction::contract::ContractType::AccountPermissionUpdateContract as Kind;
    let tx = transaction(s, Kind, "AccountPermissionUpdateContract", u.encode_to_vec(), 0).await?;
    let account = s.account.clone();
    broadcast(s, signed_by(tx, &[&account])).await
}

async fn info(s: &mut Setup, tx: &Transaction) -> eyre::Result<proto::TransactionInfo> {
    let txid = tron_devnode::transaction_id(tx.raw_data.as_ref().unwrap());
    Ok(s.wallet.get_transaction_info_by_id(proto::BytesMessage { value: txid.to_vec() }).await?.into_inner())
}

/// The account's permissions made 2 of the three owners' keys, the active one for contract calls only.
async fn make_multisig(s: &mut Setup) -> eyre::Result<()> {
    let owners: Vec<Address> = s.owners.iter().map(|k| k.address()).collect();
    let u = update(
        s.account.address(),
        permission(PermissionType::Owner, 2, &owners, ""),
        vec![permission(PermissionType::Active, 2, &owners, CALLS_ONLY)],
    );
    assert_eq!(permission_update(s, &u).await?, (ResponseCode::Success, String::new()));
    Ok(())
}

/// A Settlement admin call of the account, under `permission_id`.
async fn admin_call(s: &mut Setup, permission_id: i32) -> eyre::Result<(Transaction, Address)> {
    use transaction::contract::ContractType::TriggerSmartContract as Kind;
    let next = PrivateKeySigner::random().address();
    let call = TriggerSmartContract {
        owner_address: tron_address(s.account.address()),
        contract_address: tron_address(s.chain.settlement),
        data: Settlement::scheduleSignerRotationCall { newSigner: next }.abi_encode(),
        ..Default::default()
    };
    Ok((transaction(s, Kind, "TriggerSmartContract", call.encode_to_vec(), permission_id).await?, next))
}

#[tokio::test]
async fn a_permission_update_is_validated_and_charged_as_java_tron_does() -> eyre::Result<()> {
    let mut s = setup().await?;
    let me = s.account.address();
    let owners: Vec<Address> = s.owners.iter().map(|k| k.address()).collect();
    let ops = "7fff1fc0033efb0f000000000000000000000000000000000000000000000000";
    let good_active = permission(PermissionType::Active, 2, &owners, CALLS_ONLY);
    let good_owner = permission(PermissionType::Owner, 2, &owners, "");
    let six: Vec<Address> = (0..6).map(|_| PrivateKeySigner::random().address()).collect();
    let twice = [owners[0], owners[0]];
    let refused = [
        (
            update(me, permission(PermissionType::Owner, 0, &owners, ""), vec![good_active.clone()]),
            "permission's threshold should be greater than 0",
        ),
        (
            update(me, permission(PermissionType::Owner, 4, &owners, ""), vec![good_active.clone()]),
            "sum of all key's weight should not be less than threshold in permission Owner",
        ),
        (
            update(me, permission(PermissionType::Owner, 1, &twice, ""), vec![good_active.clone()]),
            "address should be distinct in permission Owner",
        ),
        (
            update(me, permission(PermissionType::Owner, 2, &six, ""), vec![good_active.clone()]),
            "number of keys in permission should not be greater than 5",
        ),
        (
            update(me, permission(PermissionType::Owner, 2, &owners, ops), vec![good_active.clone()]),
            "Owner permission needn't operations",
        ),
        (
            update(me, good_owner.clone(), vec![permission(PermissionType::Active, 2, &owners, "")]),
            "operations size must 32",
        ),
        (
            update(
                me,
                good_owner.clone(),
                vec![permission(PermissionType::Active, 2, &owners, &format!("{}01", "00".repeat(31)))],
            ),
            "248 isn't a validate ContractType",
        ),
        (update(me, good_owner.clone(), vec![]), "active permission is missed"),
        (
            update(me, good_owner.clone(), vec![permission(PermissionType::Owner, 2, &owners, "")]),
            "active permission type is error",
        ),
        (
            AccountPermissionUpdateContract {
                witness: Some(good_owner.clone()),
                ..update(me, good_owner.clone(), vec![good_active.clone()])
            },
            "account isn't witness can't set witness permission",
        ),
    ];
    for (u, message) in refused {
        let (code, answer) = permission_update(&mut s, &u).await?;
        assert_eq!(
            (code, answer.as_str()),
            (ResponseCode::ContractValidateError, format!("Contract validate error : {message}").as_str())
        );
    }
    // The fee, 100 TRX, is more than the account holds: java-tron fails the execution.
    s.chain.provider.anvil_set_balance(me, U256::from(50_000_000u64)).await?;
    let (code, answer) = permission_update(&mut s, &update(me, good_owner.clone(), vec![good_active.clone()])).await?;
    assert_eq!(code, ResponseCode::ContractExeError);
    assert_eq!(
        answer,
        format!(
            "Contract execute error : {} insufficient balance, balance: 50000000, amount: 100000000",
            alloy::hex::encode(tron_address(me))
        )
    );
    let before = s.account.address();
    assert_eq!(s.chain.provider.get_balance(before).await?, U256::from(50_000_000u64), "nothing was charged");

    // Accepted: the permissions replaced, 100 TRX (and the bandwidth) charged.
    s.chain.provider.anvil_set_balance(me, U256::from(FUNDS)).await?;
    use transaction::contract::ContractType::AccountPermissionUpdateContract as Kind;
    let u = update(me, good_owner, vec![good_active]);
    let tx = signed_by(
        transaction(&mut s, Kind, "AccountPermissionUpdateContract", u.encode_to_vec(), 0).await?,
        &[&s.account],
    );
    assert_eq!(broadcast(&mut s, tx.clone()).await?.0, ResponseCode::Success);
    let info = info(&mut s, &tx).await?;
    let receipt = info.receipt.unwrap_or_default();
    assert_eq!(info.fee, 100_000_000 + receipt.net_fee, "the fee and the bandwidth: {info:?}");
    assert_eq!(s.chain.provider.get_balance(me).await?, U256::from(FUNDS - info.fee as u64));
    let account =
        s.wallet.get_account(proto::Account { address: tron_address(me), ..Default::default() }).await?.into_inner();
    let owner = account.owner_permission.clone().expect("an owner permission");
    assert_eq!((owner.id, owner.threshold, owner.keys.len()), (0, 2, 3));
    let [active] = account.active_permission.as_slice() else { panic!("one active permission: {account:?}") };
    assert_eq!((active.id, active.threshold, alloy::hex::encode(&active.operations)), (2, 2, CALLS_ONLY.to_owned()));
    // The HTTP API shows them as java-tron's JSON does.
    let http: Value = reqwest::Client::new()
        .post(format!("{}/wallet/getaccount", s.node.http_url))
        .json(&json!({ "address": abi::tron::to_base58(me), "visible": true }))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(http["owner_permission"]["threshold"], 2, "{http}");
    assert_eq!(http["owner_permission"]["keys"][0]["address"], abi::tron::to_base58(owners[0]), "{http}");
    assert!(http["owner_permission"].get("type").is_none(), "an owner permission's type is the default: {http}");
    assert_eq!(
        (http["active_permission"][0]["type"].clone(), http["active_permission"][0]["id"].clone()),
        (json!("Active"), json!(2))
    );
    assert_eq!(http["active_permission"][0]["operations"], CALLS_ONLY);
    Ok(())
}

#[tokio::test]
async fn a_multi_signature_transaction_needs_its_permissions_threshold_in_weight() -> eyre::Result<()> {
    let mut s = setup().await?;
    make_multisig(&mut s).await?;
    let (owners, account) = (s.owners.clone(), s.account.clone());
    let base58 = |k: &PrivateKeySigner| abi::tron::to_base58(k.address());
    let settlement = Settlement::new(s.chain.settlement, s.chain.provider.clone());

    // Its own key no longer signs for it.
    let (tx, _) = admin_call(&mut s, 2).await?;
    let signature = alloy::hex::encode(&signed_by(tx.clone(), &[&account]).signature[0]);
    let (code, message) = broadcast(&mut s, signed_by(tx.clone(), &[&account])).await?;
    assert_eq!(code, ResponseCode::Sigerror);
    assert_eq!(
        message,
        format!(
            "Validate signature error: {signature} is signed by {} but it is not contained of permission.",
            base58(&account)
        )
    );
    // One owner: short of the threshold.
    let alone = broadcast(&mut s, signed_by(tx.clone(), &[&owners[0]])).await?;
    assert_eq!(alone, (ResponseCode::Sigerror, "Validate signature error: sig error".to_owned()));
    // One owner twice.
    let twice = broadcast(&mut s, signed_by(tx.clone(), &[&owners[0], &owners[0]])).await?;
    assert_eq!(
        twice,
        (ResponseCode::Sigerror, format!("Validate signature error: {} has signed twice!", base58(&owners[0])))
    );
    // More signatures than the permission has keys.
    let four = broadcast(&mut s, signed_by(tx.clone(), &[&owners[0], &owners[1], &owners[2], &account])).await?;
    assert_eq!(
        four,
        (
            ResponseCode::Sigerror,
            "Validate signature error: Signature count is 4 more than key counts of permission : 3".to_owned()
        )
    );
    // A permission it does not have; an operation its active permission does not allow (a TRX transfer).
    let (missing, _) = admin_call(&mut s, 3).await?;
    let none = broadcast(&mut s, signed_by(missing, &[&owners[0], &owners[1]])).await?;
    assert_eq!(none, (ResponseCode::Sigerror, "Validate signature error: permission isn't exit".to_owned()));
    let transfer = proto::TransferContract {
        owner_address: tron_address(account.address()),
        to_address: tron_address(owners[0].address()),
        amount: 1_000_000,
    };
    use transaction::contract::ContractType::TransferContract as Transfer;
    let pay = transaction(&mut s, Transfer, "TransferContract", transfer.encode_to_vec(), 2).await?;
    let denied = broadcast(&mut s, signed_by(pay, &[&owners[0], &owners[1]])).await?;
    assert_eq!(denied, (ResponseCode::Sigerror, "Validate signature error: Permission denied".to_owned()));
    assert!(settlement.pendingChanges().call().await?.is_empty(), "nothing refused executed");

    // The node weighs the signatures as java-tron does (`GetTransactionSignWeight`).
    use transaction_sign_weight::result::ResponseCode as Weighed;
    let wallet = s.wallet.clone();
    let weigh = move |tx: Transaction| {
        let mut wallet = wallet.clone();
        async move { wallet.get_transaction_sign_weight(tx).await.map(|w| w.into_inner()) }
    };
    let one = weigh(signed_by(tx.clone(), &[&owners[0]])).await?;
    assert_eq!(
        (one.current_weight, one.result.clone().unwrap_or_default().code),
        (1, Weighed::NotEnoughPermission as i32)
    );
    assert_eq!(one.approved_list, vec![tron_address(owners[0].address())]);
    assert_eq!(one.permission.map(|p| p.threshold), Some(2));
    let stranger = weigh(signed_by(tx.clone(), &[&account])).await?;
    assert_eq!(stranger.result.unwrap_or_default().code, Weighed::PermissionError as i32);

    // Two owners, of three: executed as the account, charged the multi-signature fee besides its energy.
    let (tx, next) = admin_call(&mut s, 2).await?;
    let both = signed_by(tx, &[&owners[2], &owners[0]]);
    assert_eq!(weigh(both.clone()).await?.result.unwrap_or_default().code, Weighed::EnoughPermission as i32);
    let before = s.chain.provider.get_balance(account.address()).await?;
    assert_eq!(broadcast(&mut s, both.clone()).await?, (ResponseCode::Success, String::new()));
    let pending = settlement.pendingChanges().call().await?;
    assert_eq!(pending.len(), 1, "scheduled by the multisig account");
    assert_eq!(
        settlement.changeId(0, alloy::sol_types::SolValue::abi_encode(&next).into()).call().await?,
        pending[0].id
    );
    let info = info(&mut s, &both).await?;
    let receipt = info.receipt.unwrap_or_default();
    assert_eq!(
        info.fee,
        receipt.energy_fee + receipt.net_fee + 1_000_000,
        "energy, bandwidth and 1 TRX for the signatures: {info:?}"
    );
    assert_eq!(before - s.chain.provider.get_balance(account.address()).await?, U256::from(info.fee as u64));
    Ok(())
}

/// TronWeb (npm), not our code, builds the admin call under the account's active permission, signs it with
/// `trx.multiSign` as each owner, asks the node for the weights and broadcasts.
#[tokio::test]
async fn tronweb_multisigns_a_settlement_admin_call_that_the_node_executes_as_the_account() -> eyre::Result<()> {
    let mut s = setup().await?;
    make_multisig(&mut s).await?;
    let next = PrivateKeySigner::random().address();
    let call = Settlement::scheduleSignerRotationCall { newSigner: next }.abi_encode();
    let key = |k: &PrivateKeySigner| alloy::hex::encode(k.to_bytes());
    let input = json!({
        "mode": "flow",
        "full_host": s.node.http_url,
        "owner": abi::tron::to_base58(s.account.address()),
        "keys": [key(&s.owners[0]), key(&s.owners[2])],
        "contract": abi::tron::to_base58(s.chain.settlement),
        "function_selector": Settlement::scheduleSignerRotationCall::SIGNATURE,
        "parameter": alloy::hex::encode(&call[4..]),
        "permission_id": 2,
        "fee_limit": FEE_LIMIT,
    });
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = anvil_tests::api::node_script(&root, "tron-devnode/tests/tronweb-multisig.mjs", &input).await?;
    assert_eq!(out["tx_permission_id"], 2, "the node built it under the active permission: {out}");
    assert_eq!(out["weight_one"]["current_weight"], 1, "{out}");
    assert!(out["weight_one"]["result"].get("code").is_some_and(|c| c == "NOT_ENOUGH_PERMISSION"), "{out}");
    assert_eq!(out["alone"]["result"], false, "one owner alone is refused: {out}");
    assert_eq!(out["alone"]["code"], "SIGERROR", "{out}");
    assert_eq!(out["alone"]["message"], "Validate signature error: sig error", "{out}");
    assert_eq!(out["weight_two"]["current_weight"], 2, "{out}");
    assert_eq!(out["both"]["result"], true, "two owners' signatures are accepted: {out}");
    assert_eq!(out["info"]["result"], "SUCCESS", "{out}");
    let txid: B256 = out["both"]["txid"].as_str().expect("txid").parse()?;
    assert!(s.node.knows(txid), "the node executed TronWeb's transaction under TronWeb's id");
    let settlement = Settlement::new(s.chain.settlement, &s.chain.provider);
    let pending = settlement.pendingChanges().call().await?;
    assert_eq!(pending.len(), 1, "executed as the account, the contract's admin: {pending:?}");
    assert_eq!(pending[0].args, alloy::sol_types::SolValue::abi_encode(&next));
    // multiSign of a transaction without a permission id asks the node (/wallet/getsignweight) and adopts the
    // transaction it answers, re-derived with the id: TronWeb checks it against what it sent.
    assert_eq!(out["via_node"]["permission_id"], 2, "{out}");
    assert_eq!(out["via_node"]["signatures"], 1, "{out}");
    assert!(
        out["unknown_signer"].as_str().is_some_and(|m| m.contains("has no permission to sign")),
        "TronWeb refuses to sign with a key the node says is not in the permission: {out}"
    );
    let _ = s.wallet.get_now_block2(proto::EmptyMessage {}).await?;
    Ok(())
}

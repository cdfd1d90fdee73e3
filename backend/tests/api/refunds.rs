//! The admin refunds a quarantined payment to its payer over HTTP, with the REAL signer: a registration refused as
//! a duplicate is returned to the wallet that paid it, exactly its fee, as a signed treasury transfer that takes
//! nothing from the company's share; one refund at a time; only payments, only unresolved ones, only by an admin;
//! once the ledger applies the refund's `TreasuryTransferred`, the quarantine is resolved and the logs say refunded.

use alloy::primitives::{Address, B256, Signature, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use ledger::events::{ChainEvent, EventBody, EventKey};
use serde_json::{Value, json};

use crate::common::{ASSET, BNB, CHAIN, named};
use crate::helpers::{Chain, TestApp, registration_event};
use crate::payouts::{
    DEV_ADDRESS, DEV_KEY, SETTLEMENT, anvil_settlement, chain_settings, seed_chain, spawn_admin_app, spawn_signer,
};
use crate::signer_service::spawn_signer_with_node;

const FEE: u128 = 20 * BNB;

fn base(v: &Value) -> u128 {
    v["base"].as_str().unwrap_or_else(|| panic!("no base amount in {v}")).parse().unwrap()
}

pub(crate) fn refund_path(key: EventKey) -> String {
    format!("/v1/admin/quarantine/{}/{:#x}/{}/refund", key.chain_id, key.tx_hash, key.log_index)
}

async fn ledger(app: &TestApp) -> ledger::ChainLedger {
    ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap()
}

/// The quarantined events the admin's logs show (`all`: resolved ones too).
async fn quarantined(app: &TestApp, token: &str, all: bool) -> Vec<Value> {
    let a = app.get(&format!("/v1/admin/logs?kind=quarantine&all={all}"), Some(token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["quarantined"].as_array().unwrap().clone()
}

fn find(events: &[Value], key: EventKey) -> Option<Value> {
    let hash = format!("{:#x}", key.tx_hash);
    events.iter().find(|e| e["tx_hash"] == hash && e["log_index"] == key.log_index).cloned()
}

async fn treasury(app: &TestApp, token: &str) -> Value {
    let s = app.get(&format!("/v1/admin/treasury?asset_id={ASSET}"), Some(token)).await;
    assert_eq!(s.status, 200, "{}", s.body);
    s.body
}

/// A wallet pays its register payload (on `rpc_url`'s chain, so that its nonce is spent there) after it was already
/// registered by another: the plan refuses the second payment as `duplicate_user`. Returns the payer and the
/// quarantined event.
pub(crate) async fn duplicate_registration(app: &TestApp, rpc_url: &str) -> (PrivateKeySigner, ChainEvent) {
    let sponsor = named("U1");
    let payer = PrivateKeySigner::random();
    let tokens = app.signin(Chain::Evm, &payer).await;
    let asked = app
        .post_as(
            "/v1/users/register",
            tokens["access_token"].as_str(),
            json!({ "asset_id": ASSET, "sponsor": sponsor.to_checksum(None) }),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let nonce: U256 = asked.body["nonce"].as_str().unwrap().parse().unwrap();
    let provider = alloy::providers::ProviderBuilder::new().connect_http(rpc_url.parse().unwrap());
    alloy::providers::ext::AnvilApi::anvil_set_balance(&provider, payer.address(), U256::from(100 * BNB))
        .await
        .unwrap();
    anvil_tests::api::pay(&anvil_tests::api::wallet_provider(rpc_url, &payer).unwrap(), &asked.body).await.unwrap();
    let mut ledger = ledger(app).await;
    let first =
        registration_event(CHAIN, 50, payer.address(), sponsor, Address::ZERO, U256::from(FEE), U256::from(7_777));
    let second = registration_event(CHAIN, 51, payer.address(), sponsor, Address::ZERO, U256::from(FEE), nonce);
    assert_eq!(ledger.apply_block(&[first]).await.unwrap().applied, 1);
    assert_eq!(ledger.apply_block(std::slice::from_ref(&second)).await.unwrap().quarantined, 1);
    (payer, second)
}

/// Commits a liabilities root of `total` on `settlement` (the operator is anvil's account 0, the dev key signs): what
/// the contract needs before it lets a refund or a treasury transfer go, and its floor.
pub(crate) async fn commit_liabilities(rpc_url: &str, settlement: Address, operator_key: &str, total: u128) {
    use alloy::providers::Provider;
    let operator: PrivateKeySigner = operator_key.parse().unwrap();
    let provider = anvil_tests::api::wallet_provider(rpc_url, &operator).unwrap();
    let head = provider.get_block_number().await.unwrap();
    let latest = provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await.unwrap().unwrap();
    let root = abi::LiabilityRoot {
        token: Address::ZERO,
        epoch: 1,
        asOfBlock: head - 1,
        root: B256::repeat_byte(0x11),
        total,
        leafCount: 4,
        planHash: B256::repeat_byte(0x22),
        nonce: abi::nonces::liability_nonce(0),
        deadline: U256::from(latest.header.timestamp + 3_600),
    };
    let digest = abi::SettlementDomain::new(CHAIN, settlement).digest(&root);
    let key: PrivateKeySigner = DEV_KEY.parse().unwrap();
    let signature = alloy::signers::SignerSync::sign_hash_sync(&key, &digest).unwrap();
    abi::Settlement::new(settlement, &provider)
        .commitLiabilities(root, signature.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_quarantined_duplicate_registration_is_refunded_to_its_payer_without_touching_the_company_share() {
    // A real chain: the signer signs a refund only of a payment whose nonce is spent there, read through its own
    // node; the contract lets it go only above the floor of a recent commitment.
    let (anvil, settlement, operator_key) = anvil_settlement(0).await;
    let signer = spawn_signer_with_node(settlement, vec![named("company treasury")], anvil.endpoint()).await;
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(anvil.endpoint());
    let app = spawn_admin_app(&signer, chain).await;
    seed_chain(&app, 3).await;
    let (payer, duplicate) = duplicate_registration(&app, &anvil.endpoint()).await;
    commit_liabilities(&anvil.endpoint(), settlement, &operator_key, 0).await;
    // A quarantined event that brought no money in: a claim by a wallet the ledger does not know.
    let claim = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: B256::repeat_byte(0xc1), log_index: 3 },
        block_number: 52,
        block_timestamp: 1_700_000_052,
        body: EventBody::Claimed { account: named("Z"), token: Address::ZERO, to: named("Z"), amount: U256::from(5) },
    };
    assert_eq!(ledger(&app).await.apply_block(std::slice::from_ref(&claim)).await.unwrap().quarantined, 1);
    let token = app.admin_token().await;
    let before = treasury(&app, &token).await;
    let payer_text = payer.address().to_checksum(None);

    // The logs show the payment: who paid, how much, refundable; the claim is not.
    let events = quarantined(&app, &token, false).await;
    let shown = find(&events, duplicate.key).expect("the duplicate is listed");
    assert_eq!((shown["reason_code"].as_str(), shown["refundable"].as_bool()), (Some("duplicate_user"), Some(true)));
    assert_eq!(
        (shown["payer"].as_str(), shown["amount"].as_str()),
        (Some(payer_text.as_str()), Some(&*FEE.to_string()))
    );
    assert_eq!((&shown["refund"], &shown["resolved_at"]), (&Value::Null, &Value::Null));
    let claim_shown = find(&events, claim.key).expect("the claim is listed");
    assert_eq!((claim_shown["refundable"].as_bool(), &claim_shown["payer"]), (Some(false), &Value::Null));

    // Refused: a user; an unknown event; a malformed hash; an event that is not a payment. Nothing stored.
    let audits = crate::common::count(&app.db.pool, "audit_logs").await;
    let user = app.user_token().await;
    let a = app.post_admin(&refund_path(duplicate.key), &user, json!({})).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let unknown = EventKey { tx_hash: B256::repeat_byte(0xee), ..duplicate.key };
    assert_eq!(app.post_admin(&refund_path(unknown), &token, json!({})).await.status, 404);
    let a = app.post_admin("/v1/admin/quarantine/56/0x12/0/refund", &token, json!({})).await;
    assert_eq!((a.status, a.code()), (400, "invalid_path"), "{}", a.body);
    let a = app.post_admin(&refund_path(claim.key), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "not_an_inflow"), "{}", a.body);
    assert_eq!(crate::common::count(&app.db.pool, "treasury_transfers").await, 0);
    assert_eq!(crate::common::count(&app.db.pool, "audit_logs").await, audits);

    // The refund: signed by the signer, to the payer, exactly the fee, sent as a treasury transfer is.
    let a = app.post_admin(&refund_path(duplicate.key), &token, json!({})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let r = &a.body;
    assert_eq!((r["to"].as_str(), r["amount"].as_str()), (Some(payer_text.as_str()), Some(&*FEE.to_string())));
    assert_eq!((r["status"].as_str(), r["origin"].as_str()), (Some("signed"), Some("api")));
    let key = &r["refund_of"];
    assert_eq!((key["chain_id"].as_u64(), key["log_index"].as_u64()), (Some(CHAIN), Some(0)));
    assert_eq!(key["tx_hash"], format!("{:#x}", duplicate.key.tx_hash));
    let id = r["id"].as_i64().unwrap();
    let nonce: U256 = r["nonce"].as_str().unwrap().parse().unwrap();
    assert_eq!(nonce, abi::nonces::treasury_nonce(id as u64));
    let payload = abi::TreasuryTransfer {
        token: Address::ZERO,
        to: payer.address(),
        amount: U256::from(FEE),
        nonce,
        deadline: U256::from(r["deadline"].as_u64().unwrap()),
    };
    let digest = abi::SettlementDomain::new(CHAIN, settlement).digest(&payload);
    let signature = alloy::hex::decode(r["signature"].as_str().unwrap()).unwrap();
    let signature = Signature::try_from(signature.as_slice()).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), DEV_ADDRESS);
    assert_eq!(r["transaction"]["to"], settlement.to_checksum(None));
    let data = alloy::hex::decode(r["transaction"]["data"].as_str().unwrap()).unwrap();
    let call = abi::Settlement::transferTreasuryCall::abi_decode(&data).unwrap();
    assert_eq!((call.t.to, call.t.amount, call.t.nonce), (payer.address(), U256::from(FEE), nonce));

    // The company's share is unchanged; the refund is reserved on its own.
    let after = treasury(&app, &token).await;
    for figure in ["company_total", "available", "reserved", "transferred"] {
        assert_eq!(base(&after[figure]), base(&before[figure]), "{figure}");
    }
    assert_eq!((base(&after["refunds_reserved"]), base(&after["refunded"])), (FEE, 0));

    // One refund at a time; the logs name it.
    let a = app.post_admin(&refund_path(duplicate.key), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "refund_exists"), "{}", a.body);
    let shown = find(&quarantined(&app, &token, false).await, duplicate.key).unwrap();
    assert_eq!(shown["refundable"], false);
    assert_eq!(shown["refund"], json!({ "transfer_id": id, "status": "signed", "executed_block": null }));

    // Audited, with the event before and the transfer after.
    let a = app.get("/v1/admin/audit?limit=5", Some(&token)).await;
    let entry = a.body["items"].as_array().unwrap().iter().find(|e| e["action"] == "quarantine_refund").cloned();
    let entry = entry.expect("the refund is audited");
    assert_eq!(entry["actor"], app.admin.address().to_checksum(None));
    assert_eq!(entry["target"], format!("quarantine:{CHAIN}:{:#x}:0", duplicate.key.tx_hash));
    assert_eq!(entry["before"]["event"]["payer"], payer_text);
    assert_eq!(entry["before"]["event"]["reason_code"], "duplicate_user");
    assert_eq!(entry["after"]["transfer"]["id"], id);
    assert_eq!(entry["after"]["transfer"]["amount"], FEE.to_string());
    assert_eq!(entry["after"]["available"], before["available"]["base"]);

    // The contract executes it; the listener applies its event: the quarantine is resolved by the refund.
    let executed = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: B256::repeat_byte(0xe5), log_index: 0 },
        block_number: 60,
        block_timestamp: 1_700_000_060,
        body: EventBody::TreasuryTransferred {
            nonce,
            token: Address::ZERO,
            to: payer.address(),
            amount: U256::from(FEE),
        },
    };
    assert_eq!(ledger(&app).await.apply_block(&[executed]).await.unwrap().applied, 1);
    let resolved: (bool, Option<i64>) = sqlx::query_as(
        "SELECT resolved_at IS NOT NULL, refunded_by FROM quarantine WHERE tx_hash = $1 AND log_index = 0",
    )
    .bind(duplicate.key.tx_hash.as_slice())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(resolved, (true, Some(id)));
    // No longer open; with the resolved ones, shown refunded by that transfer.
    assert!(find(&quarantined(&app, &token, false).await, duplicate.key).is_none());
    let shown = find(&quarantined(&app, &token, true).await, duplicate.key).expect("listed with the resolved ones");
    assert_eq!(shown["refund"], json!({ "transfer_id": id, "status": "executed", "executed_block": 60 }));
    assert_eq!(shown["refundable"], false);
    assert!(shown["resolved_at"].is_string(), "{shown}");
    let a = app.post_admin(&refund_path(duplicate.key), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "already_resolved"), "{}", a.body);
    let done = treasury(&app, &token).await;
    assert_eq!((base(&done["refunded"]), base(&done["refunds_reserved"])), (FEE, 0));
    assert_eq!((base(&done["available"]), base(&done["transferred"])), (base(&before["available"]), 0));
}

#[tokio::test]
async fn the_signer_refuses_a_refund_of_a_payment_it_never_authorised_and_nothing_is_stored() {
    let signer = spawn_signer(SETTLEMENT, vec![]).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    seed_chain(&app, 2).await;
    // A duplicate registration paid with a payload this signer never signed (nonce 4 242).
    let payer = named("outsider");
    let mut ledger = ledger(&app).await;
    let first = registration_event(CHAIN, 50, payer, named("U1"), Address::ZERO, U256::from(FEE), U256::from(4_241));
    let second = registration_event(CHAIN, 51, payer, named("U1"), Address::ZERO, U256::from(FEE), U256::from(4_242));
    ledger.apply_block(&[first]).await.unwrap();
    assert_eq!(ledger.apply_block(std::slice::from_ref(&second)).await.unwrap().quarantined, 1);
    let token = app.admin_token().await;
    let audits = crate::common::count(&app.db.pool, "audit_logs").await;

    let a = app.post_admin(&refund_path(second.key), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (503, "signer_refused"), "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("policy.refund_not_a_payment"), "{}", a.body);
    assert_eq!(crate::common::count(&app.db.pool, "treasury_transfers").await, 0);
    assert_eq!(crate::common::count(&app.db.pool, "audit_logs").await, audits);
    let shown = find(&quarantined(&app, &token, false).await, second.key).unwrap();
    assert_eq!((shown["refundable"].as_bool(), &shown["refund"]), (Some(true), &Value::Null), "still to be refunded");
}

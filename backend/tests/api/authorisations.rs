//! One authorisation lifecycle (issue 45, backend/STAFF.md §3) over HTTP with the REAL signer holding its own list of
//! proposers and approvers: a finance wallet proposes a payout batch, signs the typed data the API hands it, an
//! approver other than the proposer approves, and only then does the signer sign the batch. The attack: an insider
//! holding the API's database and the configured admin wallet (every staff role) writes the approvals it wants
//! straight into the tables — the signer still refuses, and says why.

use alloy::primitives::{Address, B256, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};
use signer::approvals::ApprovalsConfig;
use signer::intent::Addr;

use crate::helpers::{Chain, TestApp};
use crate::payouts::{PayoutSetup, SETTLEMENT, chain_settings, check_batch_signature};
use crate::signer_service::{spawn_signer_with_approvals, spawn_signer_with_node_and_approvals};

struct Wallet {
    key: PrivateKeySigner,
    token: String,
}

impl Wallet {
    async fn signed_in(app: &TestApp, key: PrivateKeySigner) -> Self {
        let pair = app.signin(Chain::Evm, &key).await;
        Self { key, token: pair["access_token"].as_str().unwrap().to_owned() }
    }

    fn address(&self) -> String {
        self.key.address().to_checksum(None)
    }
}

/// `wallet`'s signature of the typed data `typed` (as the API answers it), computed from its fields: the API's JSON
/// must say exactly what `abi::approval::StaffApproval` hashes.
fn sign_typed(wallet: &PrivateKeySigner, typed: &Value) -> String {
    use alloy::sol_types::SolStruct;
    let m = &typed["message"];
    let types: Vec<String> = typed["types"]["StaffApproval"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["type"].as_str().unwrap(), f["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        format!("StaffApproval({})", types.join(",")),
        abi::approval::StaffApproval::eip712_encode_type(),
        "the typed data's fields are the signer's"
    );
    assert_eq!(typed["domain"]["name"], abi::approval::APPROVAL_DOMAIN_NAME);
    let number = |v: &Value| v.as_str().unwrap().parse::<U256>().unwrap();
    let approval = abi::approval::StaffApproval::new(
        m["action"].as_str().unwrap(),
        m["kind"].as_str().unwrap(),
        m["payload"].as_str().unwrap().parse::<B256>().unwrap(),
        m["token"].as_str().unwrap().parse::<Address>().unwrap(),
        number(&m["total"]),
        number(&m["nonce"]),
        number(&m["deadline"]).to::<u64>(),
    );
    let chain_id = typed["domain"]["chainId"].as_u64().unwrap();
    let contract: Address = typed["domain"]["verifyingContract"].as_str().unwrap().parse().unwrap();
    let digest = approval.digest(chain_id, contract);
    alloy::hex::encode_prefixed(wallet.sign_hash_sync(&digest).unwrap().as_bytes())
}

async fn grant(app: &TestApp, admin: &str, wallet: &Wallet, role: &str) {
    let body = json!({ "action": "grant", "wallet": wallet.address(), "role": role, "reason": "staff of the test" });
    let a = app.post_as("/v1/admin/staff/changes", Some(admin), body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    // Once an approver exists, a second person applies a change: the approver's role is granted last.
    assert_eq!(a.body["status"], "applied", "grant roles before the approver's: {}", a.body);
}

async fn build(app: &TestApp, token: &str) -> i64 {
    let a = app.post_admin("/v1/admin/payouts/batches", token, json!({ "asset_id": 1 })).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["id"].as_i64().unwrap()
}

async fn signature_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM payout_batches WHERE signature IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_is_signed_only_after_its_proposer_and_another_approver_signed_it_off() {
    let finance_key = PrivateKeySigner::random();
    let approver_key = PrivateKeySigner::random();
    let second_approver = PrivateKeySigner::random();
    let signer = spawn_signer_with_approvals(
        SETTLEMENT,
        vec![],
        ApprovalsConfig {
            proposers: vec![Addr(finance_key.address())],
            approvers: vec![Addr(approver_key.address()), Addr(second_approver.address())],
            payout_batch: 1,
            treasury_transfer: 2,
            refund: 2,
            forfeit: 1,
            payout_tiers: vec![],
        },
    )
    .await;
    let PayoutSetup { signer: _signer, app, token: admin, .. } =
        PayoutSetup::with(signer, chain_settings(SETTLEMENT), 4).await;
    let finance = Wallet::signed_in(&app, finance_key).await;
    let approver = Wallet::signed_in(&app, approver_key).await;
    grant(&app, &admin, &finance, "finance").await;
    grant(&app, &admin, &approver, "approver").await;

    let id = build(&app, &finance.token).await;
    let sign_path = format!("/v1/admin/payouts/batches/{id}/sign");

    // Without approvals the signer refuses the batch, and says why; nothing is signed.
    let a = app.post_admin(&sign_path, &finance.token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("policy.approvals_missing"), "{}", a.body);
    assert_eq!(signature_count(&app).await, 0);

    // Finance proposes: nonce and deadline fixed, the typed data to sign handed back; a retry answers the same.
    let p = app
        .post_admin("/v1/admin/authorisations", &finance.token, json!({ "kind": "payout_batch", "subject": id }))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["stage"], "proposed");
    assert_eq!(p.body["entries"].as_array().unwrap().len(), 4, "the approver sees every recipient");
    assert_eq!(p.body["approvals_required"], 1);
    // Before the proposer's own signature both are missing, as words and as data a client writes in its language.
    assert_eq!(p.body["missing"].as_array().map(Vec::len), Some(2), "{}", p.body);
    assert_eq!(
        p.body["missing_proposer"].as_str(),
        Some(finance.key.address().to_checksum(None).as_str()),
        "{}",
        p.body
    );
    assert_eq!(p.body["missing_approvals"], 1, "{}", p.body);
    let auth = p.body["id"].as_i64().unwrap();
    let again = app
        .post_admin("/v1/admin/authorisations", &finance.token, json!({ "kind": "payout_batch", "subject": id }))
        .await;
    assert_eq!((again.body["id"].as_i64(), &again.body["nonce"]), (Some(auth), &p.body["nonce"]));
    let sigs = format!("/v1/admin/authorisations/{auth}/signatures");

    // A signature by another key than the caller's is refused; so is the approver signing the proposal.
    let forged = sign_typed(&PrivateKeySigner::random(), &p.body["typed_data"]["propose"]);
    let a = app.post_admin(&sigs, &finance.token, json!({ "action": "propose", "signature": forged })).await;
    assert_eq!((a.status, a.code()), (422, "invalid_signature"), "{}", a.body);
    let by_approver = sign_typed(&approver.key, &p.body["typed_data"]["propose"]);
    let a = app.post_admin(&sigs, &approver.token, json!({ "action": "propose", "signature": by_approver })).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);

    let proposed = sign_typed(&finance.key, &p.body["typed_data"]["propose"]);
    let a = app.post_admin(&sigs, &finance.token, json!({ "action": "propose", "signature": proposed })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "proposed");
    assert_eq!(a.body["missing"].as_array().unwrap().len(), 1, "{}", a.body);
    assert_eq!((&a.body["missing_proposer"], &a.body["missing_approvals"]), (&json!(null), &json!(1)), "{}", a.body);

    // The proposer approving their own proposal is refused, whatever roles they hold.
    let own = sign_typed(&finance.key, &p.body["typed_data"]["approve"]);
    let a = app.post_admin(&sigs, &finance.token, json!({ "action": "approve", "signature": own })).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);

    // Still unapproved: the sign call carries the proposer's signature alone and the signer refuses it.
    let a = app.post_admin(&sign_path, &admin, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    assert_eq!(signature_count(&app).await, 0);

    let approved = sign_typed(&approver.key, &p.body["typed_data"]["approve"]);
    let a = app.post_admin(&sigs, &approver.token, json!({ "action": "approve", "signature": approved })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "approved", "{}", a.body);
    assert_eq!(a.body["missing"], json!([]));
    assert_eq!((&a.body["missing_proposer"], &a.body["missing_approvals"]), (&json!(null), &json!(0)), "{}", a.body);
    assert_eq!(a.body["signatures"].as_array().unwrap().len(), 2);

    let s = app.post_admin(&sign_path, &finance.token, json!({})).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["status"], "signed");
    assert_eq!(s.body["nonce"], p.body["nonce"], "the nonce approved is the nonce signed");
    assert_eq!(s.body["deadline"].as_u64(), p.body["deadline"].as_u64());
    check_batch_signature(&s.body, SETTLEMENT);
    let view = app.get(&format!("/v1/admin/authorisations/{auth}"), Some(&approver.token)).await;
    assert_eq!(view.body["stage"], "signed");

    // The queue's filters (issue 66): the batch's own proposal by its subject (the console's batch page), and a wallet
    // that proposed, approved or decided it; a subject without its kind, or an actor that is no wallet, is refused.
    let ids = |body: &Value| -> Vec<i64> {
        body["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
    };
    let of_batch =
        app.get(&format!("/v1/admin/authorisations?kind=payout_batch&subject={id}"), Some(&finance.token)).await;
    assert_eq!((of_batch.status, ids(&of_batch.body)), (200, vec![auth]), "{}", of_batch.body);
    let other = app
        .get(&format!("/v1/admin/authorisations?kind=payout_batch&subject={}", id + 1000), Some(&finance.token))
        .await;
    assert_eq!(ids(&other.body), Vec::<i64>::new());
    let a = app.get(&format!("/v1/admin/authorisations?subject={id}"), Some(&finance.token)).await;
    assert_eq!((a.status, a.code()), (400, "invalid_query"), "{}", a.body);
    for wallet in [&approver, &finance] {
        let lower = format!("{:#x}", wallet.key.address());
        let a = app.get(&format!("/v1/admin/authorisations?actor={lower}"), Some(&finance.token)).await;
        assert_eq!(ids(&a.body), vec![auth], "{lower}: {}", a.body);
    }
    let stranger = format!("{:#x}", second_approver.address());
    let a = app.get(&format!("/v1/admin/authorisations?actor={stranger}"), Some(&finance.token)).await;
    assert_eq!(ids(&a.body), Vec::<i64>::new(), "{}", a.body);
    let a = app.get("/v1/admin/authorisations?actor=finance", Some(&finance.token)).await;
    assert_eq!((a.status, a.code()), (400, "invalid_query"), "{}", a.body);
    let a = app.get(&format!("/v1/admin/authorisations?actor={}", "0".repeat(45)), Some(&finance.token)).await;
    assert_eq!(a.status, 422, "an over-long actor is refused while the query is read: {}", a.body);

    // The audit log holds every step.
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_logs WHERE target = $1 ORDER BY id")
        .bind(format!("authorisation:{auth}"))
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "authorisation_propose",
            "authorisation_propose_signature",
            "authorisation_signer_refused",
            "authorisation_approve_signature",
            "authorisation_approved",
        ]
    );
}

#[tokio::test]
async fn an_insider_with_the_database_and_the_admin_wallet_gets_no_batch_signed() {
    let finance_key = PrivateKeySigner::random();
    let approver_key = PrivateKeySigner::random();
    let signer = spawn_signer_with_approvals(
        SETTLEMENT,
        vec![],
        ApprovalsConfig {
            proposers: vec![Addr(finance_key.address())],
            approvers: vec![Addr(approver_key.address())],
            payout_batch: 1,
            treasury_transfer: 1,
            refund: 1,
            forfeit: 1,
            payout_tiers: vec![],
        },
    )
    .await;
    let PayoutSetup { signer: _signer, app, token: admin, .. } =
        PayoutSetup::with(signer, chain_settings(SETTLEMENT), 3).await;
    let approver = Wallet::signed_in(&app, approver_key).await;
    grant(&app, &admin, &approver, "approver").await;

    // The admin wallet holds every staff role in the API: it builds, proposes and signs the proposal itself.
    let id = build(&app, &admin).await;
    let p = app.post_admin("/v1/admin/authorisations", &admin, json!({ "kind": "payout_batch", "subject": id })).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let auth = p.body["id"].as_i64().unwrap();
    let proposed = sign_typed(&app.admin, &p.body["typed_data"]["propose"]);
    let a = app
        .post_admin(
            &format!("/v1/admin/authorisations/{auth}/signatures"),
            &admin,
            json!({ "action": "propose", "signature": proposed }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);

    // With the database, it writes the approvals it lacks: its own, and one naming the real approver, signed by itself.
    let approve = sign_typed(&app.admin, &p.body["typed_data"]["approve"]);
    let approve = alloy::hex::decode(approve).unwrap();
    for wallet in [app.admin.address(), approver.key.address()] {
        sqlx::query(
            "INSERT INTO authorisation_signatures (authorisation_id, wallet, action, signature) VALUES ($1, $2, 'approve', $3)",
        )
        .bind(auth)
        .bind(wallet.as_slice())
        .bind(&approve)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE authorisations SET status = 'approved', approved_at = now() WHERE id = $1")
        .bind(auth)
        .execute(&app.db.pool)
        .await
        .unwrap();

    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &admin, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("policy.approval"), "the signer says which rule: {message}");
    assert_eq!(signature_count(&app).await, 0, "nothing was signed");
    let status: String = sqlx::query_scalar("SELECT status::text FROM payout_batches WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "building");
    let refusals: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'authorisation_signer_refused'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(refusals, 1, "the refusal is audited");

    // An approver cannot approve on the admin's behalf through the API either: the reject path ends it.
    let r = app
        .post_admin(
            &format!("/v1/admin/authorisations/{auth}/reject"),
            &approver.token,
            json!({ "reason": "not ours" }),
        )
        .await;
    assert_eq!((r.status, r.body["stage"].as_str()), (200, Some("rejected")), "{}", r.body);
    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &admin, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "authorisation_closed"), "{}", a.body);
}

async fn approve_change(app: &TestApp, by: &Wallet, change: &Value) {
    let id = change["id"].as_i64().unwrap();
    let a = app.post_as(&format!("/v1/admin/staff/changes/{id}/approve"), Some(&by.token), json!({})).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("applied")), "{}", a.body);
}

async fn treasury_figures(app: &TestApp, token: &str) -> (u128, u128) {
    let s = app.get("/v1/admin/treasury?asset_id=1", Some(token)).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let base = |v: &Value| v["base"].as_str().unwrap().parse::<u128>().unwrap();
    (base(&s.body["reserved"]), base(&s.body["available"]))
}

/// Signs `action` of authorisation `p` (as the API answered it) with `wallet` and hands the signature in.
async fn sign_off(app: &TestApp, p: &Value, wallet: &Wallet, action: &str) -> crate::helpers::Answer {
    let id = p["id"].as_i64().unwrap();
    let signature = sign_typed(&wallet.key, &p["typed_data"][action]);
    app.post_admin(
        &format!("/v1/admin/authorisations/{id}/signatures"),
        &wallet.token,
        json!({ "action": action, "signature": signature }),
    )
    .await
}

#[tokio::test]
async fn a_treasury_transfer_is_proposed_reserved_and_signed_only_after_two_approvers() {
    let (finance_key, first_key, second_key) =
        (PrivateKeySigner::random(), PrivateKeySigner::random(), PrivateKeySigner::random());
    let treasury = crate::common::named("company treasury");
    let signer = spawn_signer_with_approvals(
        SETTLEMENT,
        vec![treasury],
        ApprovalsConfig {
            proposers: vec![Addr(finance_key.address())],
            approvers: vec![Addr(first_key.address()), Addr(second_key.address())],
            payout_batch: 1,
            treasury_transfer: 2,
            refund: 2,
            forfeit: 1,
            payout_tiers: vec![],
        },
    )
    .await;
    let PayoutSetup { signer: _signer, app, token: admin, .. } =
        PayoutSetup::with(signer, chain_settings(SETTLEMENT), 4).await;
    let finance = Wallet::signed_in(&app, finance_key).await;
    let first = Wallet::signed_in(&app, first_key).await;
    let second = Wallet::signed_in(&app, second_key).await;
    grant(&app, &admin, &finance, "finance").await;
    grant(&app, &admin, &first, "approver").await;
    let change =
        json!({ "action": "grant", "wallet": second.address(), "role": "approver", "reason": "second approver" });
    let c = app.post_as("/v1/admin/staff/changes", Some(&admin), change).await;
    approve_change(&app, &first, &c.body).await;
    let (_, available) = treasury_figures(&app, &admin).await;
    assert!(available > 2, "the seeded company share: {available}");
    let amount = available / 2;
    let transfer = json!({ "asset_id": 1, "to": treasury.to_checksum(None), "amount": amount.to_string() });

    // Signed at once, the signer refuses it (no proposal, no approvals) and says why; the refusal is audited.
    let a = app.post_admin("/v1/admin/treasury/transfers", &finance.token, transfer.clone()).await;
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    assert_eq!(treasury_figures(&app, &admin).await, (0, available), "nothing reserved");

    // Proposed: stored `proposed`, reserving its amount; the approver sees the recipient and amount.
    let mut proposal = transfer.clone();
    proposal["kind"] = json!("treasury_transfer");
    let p = app.post_admin("/v1/admin/authorisations", &finance.token, proposal.clone()).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let p = p.body;
    assert_eq!((p["kind"].as_str(), p["stage"].as_str()), (Some("treasury_transfer"), Some("proposed")));
    assert_eq!(p["approvals_required"], 2);
    assert_eq!(p["total"]["base"], amount.to_string());
    assert_eq!(p["entries"][0]["address"], treasury.to_checksum(None), "{p}");
    assert_eq!(treasury_figures(&app, &admin).await, (amount, available - amount), "the proposal reserves its amount");
    let transfer_id = p["subject"].as_i64().unwrap();
    let list = app.get("/v1/admin/treasury/transfers?asset_id=1", Some(&admin)).await;
    let row = &list.body["items"][0];
    assert_eq!((row["id"].as_i64(), row["status"].as_str()), (Some(transfer_id), Some("proposed")));
    assert_eq!((row["signature"].clone(), row["authorisation_id"].as_i64()), (Value::Null, p["id"].as_i64()));
    // The payload approved is the Settlement transfer at the nonce and deadline fixed now.
    let digest = abi::SettlementDomain::new(crate::common::CHAIN, SETTLEMENT).digest(&abi::TreasuryTransfer {
        token: Address::ZERO,
        to: treasury,
        amount: U256::from(amount),
        nonce: abi::nonces::treasury_nonce(transfer_id as u64),
        deadline: U256::from(p["deadline"].as_u64().unwrap()),
    });
    assert_eq!(p["payload"], digest.to_string());

    // A second proposal beyond what is left is refused before anything is stored.
    let mut greedy = proposal.clone();
    greedy["amount"] = json!((available - amount + 1).to_string());
    let g = app.post_admin("/v1/admin/authorisations", &finance.token, greedy).await;
    assert_eq!((g.status, g.code()), (422, "exceeds_available"), "{}", g.body);

    let sign_path = format!("/v1/admin/treasury/transfers/{transfer_id}/sign");
    assert_eq!(sign_off(&app, &p, &finance, "propose").await.status, 200);
    let own = sign_off(&app, &p, &finance, "approve").await;
    assert_eq!((own.status, own.code()), (403, "forbidden"), "the proposer's own approval: {}", own.body);
    let one = sign_off(&app, &p, &first, "approve").await;
    assert_eq!((one.status, one.body["stage"].as_str()), (200, Some("proposed")), "{}", one.body);
    assert_eq!(one.body["missing"][0], "1 more approval(s) from an approver other than the proposer");

    // One approval of the two the signer requires: refused, in its words, and audited; still unsigned.
    let a = app.post_admin(&sign_path, &finance.token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("policy.approvals_missing"), "{}", a.body);

    let two = sign_off(&app, &p, &second, "approve").await;
    assert_eq!((two.status, two.body["stage"].as_str()), (200, Some("approved")), "{}", two.body);

    // Signed from the queue; a retry (the transfer's own route) answers the same signature.
    let auth = p["id"].as_i64().unwrap();
    let s = app.post_admin(&format!("/v1/admin/authorisations/{auth}/sign"), &finance.token, json!({})).await;
    assert_eq!((s.status, s.body["stage"].as_str()), (200, Some("signed")), "{}", s.body);
    let t = app.post_admin(&sign_path, &finance.token, json!({})).await;
    assert_eq!((t.status, t.body["status"].as_str()), (200, Some("signed")), "{}", t.body);
    assert_eq!(t.body["nonce"], p["nonce"]);
    assert_eq!(t.body["deadline"].as_u64(), p["deadline"].as_u64(), "the deadline approved is the one signed");
    let signature = alloy::hex::decode(t.body["signature"].as_str().unwrap()).unwrap();
    let signature = alloy::primitives::Signature::try_from(signature.as_slice()).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), crate::payouts::DEV_ADDRESS);
    assert!(t.body["transaction"]["data"].as_str().unwrap().starts_with("0x"), "{}", t.body);
    assert_eq!(treasury_figures(&app, &admin).await, (amount, available - amount));

    // A second proposal, rejected: it reserves nothing more and can never be signed.
    let mut rest = proposal.clone();
    rest["amount"] = json!("1");
    let r = app.post_admin("/v1/admin/authorisations", &finance.token, rest).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(treasury_figures(&app, &admin).await, (amount + 1, available - amount - 1));
    let rid = r.body["id"].as_i64().unwrap();
    let no = app
        .post_admin(&format!("/v1/admin/authorisations/{rid}/reject"), &second.token, json!({ "reason": "not now" }))
        .await;
    assert_eq!((no.status, no.body["stage"].as_str()), (200, Some("rejected")), "{}", no.body);
    assert_eq!(treasury_figures(&app, &admin).await, (amount, available - amount), "released");
    let rs = r.body["subject"].as_i64().unwrap();
    let a = app.post_admin(&format!("/v1/admin/treasury/transfers/{rs}/sign"), &finance.token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "authorisation_closed"), "{}", a.body);

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_logs WHERE action LIKE 'treasury%' OR action LIKE 'authorisation_signer%' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "authorisation_signer_refused",
            "treasury_transfer_propose",
            "authorisation_signer_refused",
            "treasury_transfer_sign",
            "treasury_transfer_propose",
        ]
    );
}

/// The signer of the insider tests: it counts `approver`'s approvals, and a proposer that is neither the admin wallet
/// nor anyone the test knows; one approval suffices.
fn insider_approvals(approver: Address) -> ApprovalsConfig {
    ApprovalsConfig {
        proposers: vec![Addr(PrivateKeySigner::random().address())],
        approvers: vec![Addr(approver)],
        payout_batch: 1,
        treasury_transfer: 1,
        refund: 1,
        forfeit: 1,
        payout_tiers: vec![],
    }
}

/// The insider holding the database and the admin wallet: the admin wallet signs proposal `p` (as the API answered
/// it) and forges, straight into the tables, approvals of its own and of `approver` (signed by itself), then marks
/// the authorisation approved. Answers the authorisation's id.
async fn forge_approvals(app: &TestApp, p: &Value, approver: Address) -> i64 {
    let auth = p["id"].as_i64().unwrap();
    let proposed = alloy::hex::decode(sign_typed(&app.admin, &p["typed_data"]["propose"])).unwrap();
    let approve = alloy::hex::decode(sign_typed(&app.admin, &p["typed_data"]["approve"])).unwrap();
    for (wallet, action, signature) in [
        (app.admin.address(), "propose", &proposed),
        (app.admin.address(), "approve", &approve),
        (approver, "approve", &approve),
    ] {
        sqlx::query(
            "INSERT INTO authorisation_signatures (authorisation_id, wallet, action, signature) VALUES ($1, $2, $3, $4)",
        )
        .bind(auth)
        .bind(wallet.as_slice())
        .bind(action)
        .bind(signature)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE authorisations SET status = 'approved', approved_at = now() WHERE id = $1")
        .bind(auth)
        .execute(&app.db.pool)
        .await
        .unwrap();
    auth
}

/// The signer refused `a` for want of real approvals, and said which rule.
fn refused_by_the_signer(a: &crate::helpers::Answer) {
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("policy."), "the signer says why: {}", a.body);
}

/// Treasury transfers and refunds carrying a signature, and the status of each.
async fn transfer_rows(app: &TestApp) -> (i64, Vec<String>) {
    let signed: i64 = sqlx::query_scalar("SELECT count(*) FROM treasury_transfers WHERE signature IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let statuses =
        sqlx::query_scalar("SELECT status FROM treasury_transfers ORDER BY id").fetch_all(&app.db.pool).await.unwrap();
    (signed, statuses)
}

#[tokio::test]
async fn an_insider_with_the_database_and_the_admin_wallet_gets_no_treasury_transfer_signed() {
    let approver_key = PrivateKeySigner::random();
    let treasury = crate::common::named("company treasury");
    let signer =
        spawn_signer_with_approvals(SETTLEMENT, vec![treasury], insider_approvals(approver_key.address())).await;
    let PayoutSetup { signer: _signer, app, token: admin, .. } =
        PayoutSetup::with(signer, chain_settings(SETTLEMENT), 3).await;
    let transfer =
        json!({ "kind": "treasury_transfer", "asset_id": 1, "to": treasury.to_checksum(None), "amount": "1" });
    let p = app.post_admin("/v1/admin/authorisations", &admin, transfer).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let auth = forge_approvals(&app, &p.body, approver_key.address()).await;
    let a = app.post_admin(&format!("/v1/admin/authorisations/{auth}/sign"), &admin, json!({})).await;
    refused_by_the_signer(&a);
    assert_eq!(transfer_rows(&app).await, (0, vec!["proposed".to_owned()]), "nothing was signed");
}

#[tokio::test]
async fn an_insider_with_the_database_and_the_admin_wallet_gets_no_refund_signed() {
    use crate::refunds::{commit_liabilities, duplicate_registration, refund_path};
    let approver_key = PrivateKeySigner::random();
    // A real chain: the signer signs a refund only of a payment spent there, read through its own node.
    let (anvil, settlement, operator_key) = crate::payouts::anvil_settlement(0).await;
    let signer = spawn_signer_with_node_and_approvals(
        settlement,
        vec![crate::common::named("company treasury")],
        anvil.endpoint(),
        insider_approvals(approver_key.address()),
    )
    .await;
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(anvil.endpoint());
    let app = crate::payouts::spawn_admin_app(&signer, chain).await;
    crate::payouts::seed_chain(&app, 3).await;
    let (_payer, duplicate) = duplicate_registration(&app, &anvil.endpoint()).await;
    commit_liabilities(&anvil.endpoint(), settlement, &operator_key, 0).await;
    let admin = app.admin_token().await;

    // The one-step refund: the signer wants approvals and refuses it, in its words; audited, nothing stored.
    let a = app.post_admin(&refund_path(duplicate.key), &admin, json!({})).await;
    refused_by_the_signer(&a);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("policy.approvals_missing"), "{}", a.body);
    assert_eq!(transfer_rows(&app).await, (0, vec![]));

    // Proposed by the admin wallet, its approvals forged in the database: the signer still refuses.
    let key = duplicate.key;
    let refund = json!({
        "kind": "refund", "chain_id": key.chain_id, "tx_hash": format!("{:#x}", key.tx_hash), "log_index": key.log_index,
    });
    let p = app.post_admin("/v1/admin/authorisations", &admin, refund).await;
    assert_eq!((p.status, p.body["kind"].as_str()), (200, Some("refund")), "{}", p.body);
    let auth = forge_approvals(&app, &p.body, approver_key.address()).await;
    let a = app.post_admin(&format!("/v1/admin/authorisations/{auth}/sign"), &admin, json!({})).await;
    refused_by_the_signer(&a);
    let subject = p.body["subject"].as_i64().unwrap();
    let a = app.post_admin(&format!("/v1/admin/treasury/transfers/{subject}/sign"), &admin, json!({})).await;
    refused_by_the_signer(&a);
    assert_eq!(transfer_rows(&app).await, (0, vec!["proposed".to_owned()]), "nothing was signed");
    let refusals: Vec<String> =
        sqlx::query_scalar("SELECT target FROM audit_logs WHERE action = 'authorisation_signer_refused' ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let target = format!("authorisation:{auth}");
    assert_eq!(refusals, ["refund:unproposed", target.as_str(), target.as_str()], "every refusal is audited");
    let shown = app.get(&format!("/v1/admin/authorisations/{auth}"), Some(&admin)).await;
    assert_eq!(shown.body["stage"], "approved", "as the insider wrote it, and still unsigned: {}", shown.body);
}

/// Solvency commitments are the system-approved kind of the one lifecycle: the REAL solvency worker, fixing a built
/// epoch's nonce, records its authorisation approved by the system (no staff signature), its payload the digest of
/// exactly the LiabilityRoot the signer then signs; it is signed and sent, and executed once the ledger applies the
/// chain's `LiabilitiesCommitted`. The queue lists it only when asked for its kind; staff — every role — can neither
/// propose, sign off, reject nor sign one, and nothing changes when they try.
#[tokio::test]
async fn a_solvency_commitment_is_approved_by_the_system_listed_apart_and_no_staff_signs_it_off() {
    use alloy::providers::Provider;
    use alloy::providers::ext::AnvilApi;
    use backend::config::{SolvencyChain, SolvencySettings};
    use backend::solvency::worker::{SolvencyWorker, Step};
    use ledger::solvency::Cadence;

    let (anvil, settlement, operator_key) = crate::payouts::anvil_settlement(1_000 * crate::common::BNB).await;
    let signer = crate::signer_service::spawn_signer_with_node(settlement, vec![], anvil.endpoint()).await;
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(anvil.endpoint());
    chain.tuning.operator_key = Some(secrecy::SecretString::from(operator_key));
    chain.tuning.insecure_operator_key = true;
    let app = crate::payouts::spawn_admin_app(&signer, chain.clone()).await;
    crate::payouts::seed_chain(&app, 3).await;
    let admin = app.admin_token().await;
    // The listener confirmed the block before the chain's head: what the epoch is built as of.
    let provider = alloy::providers::ProviderBuilder::new().connect_http(anvil.endpoint_url());
    provider.anvil_mine(Some(20), None).await.unwrap();
    let head = provider.get_block_number().await.unwrap();
    let cursor = |number: u64| ledger::BlockCursor { number, hash: alloy::primitives::keccak256(number.to_be_bytes()) };
    let mut chain_ledger = ledger::ChainLedger::open(app.db.pool.clone(), crate::common::CHAIN).await.unwrap();
    chain_ledger.apply_confirmed(&[], cursor(head - 1), 1_700_000_000 + head).await.unwrap();

    let worker = SolvencyWorker {
        db: app.db.pool.clone(),
        chains: std::sync::Arc::new(backend::chains::ChainRegistry::from_settings(&[chain]).unwrap()),
        signer: Some(signer_client::SignerClient::new(
            signer.url.clone(),
            signer.settings().caller_id,
            signer.settings().caller_secret,
        )),
        settings: SolvencySettings {
            salt_key: secrecy::SecretString::from("0x".to_owned() + &"42".repeat(32)),
            worker: true,
            interval_secs: 1,
            idle_secs: 30,
            signature_ttl_secs: 600,
            chains: vec![SolvencyChain { chain_id: crate::common::CHAIN, interval_blocks: 10, payout_gap_blocks: 3 }],
        },
        key: [0x42; 32],
        metrics: None,
    };
    let cadence = Cadence { interval_blocks: 10, payout_gap_blocks: 3 };
    let step = worker.step(crate::common::ASSET, "BNB", cadence).await.unwrap();
    assert!(matches!(step, Step::Sent { .. }), "built, signed and sent in one step: {step:?}");

    // The queue leaves it out; asked for its kind, it is there: approved by the system, now sent.
    let queue = app.get("/v1/admin/authorisations", Some(&admin)).await;
    assert_eq!((queue.status, queue.body["items"].as_array().unwrap().len()), (200, 0), "{}", queue.body);
    let listed = app.get("/v1/admin/authorisations?kind=solvency_commitment", Some(&admin)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.body);
    let c = &items[0];
    assert_eq!((c["kind"].as_str(), c["stage"].as_str()), (Some("solvency_commitment"), Some("sent")), "{c}");
    assert_eq!(c["proposer"], Address::ZERO.to_checksum(None), "the system proposed it");
    assert!(c["approved_at"].is_string(), "{c}");
    assert_eq!((&c["approvals_required"], &c["missing"], &c["approvers"]), (&json!(0), &json!([]), &json!([])));
    assert_eq!((&c["signatures"], &c["entries"], &c["typed_data"]), (&json!([]), &json!([]), &json!({})));
    let bogus = app.get("/v1/admin/authorisations?kind=bogus", Some(&admin)).await;
    assert_eq!((bogus.status, bogus.code()), (400, "invalid_query"), "{}", bogus.body);
    let auth = c["id"].as_i64().unwrap();
    let epoch_id = c["subject"].as_i64().unwrap();

    // Its payload is the digest the signer signed: the stored signature recovers to the signer's key over it.
    let epoch = ledger::solvency::by_id(&app.db.pool, crate::common::ASSET, epoch_id).await.unwrap().unwrap();
    let digest = abi::SettlementDomain::new(crate::common::CHAIN, settlement).digest(&epoch.payload().unwrap());
    assert_eq!(c["payload"], digest.to_string());
    let signature = alloy::primitives::Signature::try_from(epoch.signature.as_deref().unwrap()).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), crate::payouts::DEV_ADDRESS);
    let actors: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_logs WHERE target = $1 ORDER BY id")
            .bind(format!("authorisation:{auth}"))
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(actors, [("solvency-worker".to_owned(), "authorisation_system_approved".to_owned())]);

    // Staff — the admin wallet holds every role — cannot propose, sign off, reject or sign it.
    let path = format!("/v1/admin/authorisations/{auth}");
    let approve = json!({ "action": "approve", "signature": format!("0x{}", "11".repeat(65)) });
    let refusals = [
        app.post_admin(
            "/v1/admin/authorisations",
            &admin,
            json!({ "kind": "solvency_commitment", "subject": epoch_id }),
        )
        .await,
        app.post_admin(&format!("{path}/signatures"), &admin, approve).await,
        app.post_admin(&format!("{path}/reject"), &admin, json!({ "reason": "not the system's" })).await,
        app.post_admin(&format!("{path}/sign"), &admin, json!({})).await,
    ];
    for a in &refusals {
        assert_eq!((a.status, a.code()), (409, "system_authorisation"), "{}", a.body);
    }
    let after = app.get(&path, Some(&admin)).await;
    assert_eq!((after.body["stage"].as_str(), &after.body["signatures"]), (Some("sent"), &json!([])));
    assert_eq!(crate::common::count(&app.db.pool, "authorisation_signatures").await, 0);

    // The chain committed it; once the ledger applies the event, the authorisation is executed.
    let latest = abi::Settlement::new(settlement, &provider).latestLiabilities(epoch.token).call().await.unwrap();
    assert_eq!((latest.epoch, latest.root), (1, epoch.root), "the commitment executed on chain");
    let commit_block = provider.get_block_number().await.unwrap();
    let committed = ledger::events::ChainEvent {
        contract: settlement,
        key: ledger::events::EventKey { chain_id: crate::common::CHAIN, tx_hash: epoch.tx_hash.unwrap(), log_index: 0 },
        block_number: commit_block,
        block_timestamp: 1_700_000_000 + commit_block,
        body: ledger::events::EventBody::LiabilitiesCommitted {
            token: epoch.token,
            epoch: epoch.epoch,
            as_of_block: epoch.as_of_block,
            root: epoch.root,
            total: U256::from(epoch.total),
            leaf_count: epoch.leaf_count,
            plan_hash: epoch.plan_hash,
            custody: U256::from(1_000 * crate::common::BNB),
        },
    };
    chain_ledger.apply_confirmed(&[committed], cursor(commit_block), 1_700_000_000 + commit_block).await.unwrap();
    let done = app.get(&path, Some(&admin)).await;
    assert_eq!(done.body["stage"], "executed", "{}", done.body);
    drop(anvil);
}

/// The member's (held, forfeited) in asset 1, base units.
async fn held_and_forfeited(app: &TestApp, who: Address) -> (u128, u128) {
    let (held, forfeited): (String, String) =
        sqlx::query_as("SELECT held::text, forfeited::text FROM users WHERE asset_id = 1 AND address = $1")
            .bind(who.as_slice())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    (held.parse().unwrap(), forfeited.parse().unwrap())
}

async fn freeze(app: &TestApp, admin: &str, who: Address) {
    let a = app
        .post_admin(
            &format!("/v1/admin/users/{who:#x}/freeze"),
            admin,
            json!({ "asset_id": 1, "reason": "fraud review" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

/// Issue 65, item 4: a forfeit is a two-person approved action, applied only when the signer's own list counts its
/// signatures — which the liability roots then carry to the signer. The admin wallet (every API role, not on the
/// signer's list) proposes and approves one itself: nothing moves.
#[tokio::test]
async fn a_forfeit_applies_only_after_its_proposer_and_an_approver_the_signer_lists_signed_it_off() {
    use crate::common::BNB;
    let finance_key = PrivateKeySigner::random();
    let approver_key = PrivateKeySigner::random();
    let signer = spawn_signer_with_approvals(
        SETTLEMENT,
        vec![],
        ApprovalsConfig {
            proposers: vec![Addr(finance_key.address())],
            approvers: vec![Addr(approver_key.address())],
            payout_batch: 1,
            treasury_transfer: 1,
            refund: 1,
            forfeit: 1,
            payout_tiers: vec![],
        },
    )
    .await;
    let PayoutSetup { signer: _signer, app, token: admin, payable } =
        PayoutSetup::with(signer, chain_settings(SETTLEMENT), 3).await;
    let finance = Wallet::signed_in(&app, finance_key).await;
    let approver = Wallet::signed_in(&app, approver_key).await;
    grant(&app, &admin, &finance, "finance").await;
    grant(&app, &admin, &approver, "approver").await;
    let (member, other) = (payable[1], payable[2]);
    freeze(&app, &admin, member).await;
    freeze(&app, &admin, other).await;
    assert_eq!(held_and_forfeited(&app, member).await, (18 * BNB, 0));

    // Bad requests change nothing: no reason, an address that is none, a wallet with nothing held.
    for (body, status, code) in [
        (
            json!({ "kind": "forfeit", "asset_id": 1, "wallet": format!("{member:#x}"), "reason": "  " }),
            422,
            "invalid_body",
        ),
        (json!({ "kind": "forfeit", "asset_id": 1, "wallet": "0x12", "reason": "fraud" }), 422, "invalid_address"),
        (
            json!({ "kind": "forfeit", "asset_id": 1, "wallet": format!("{:#x}", payable[0]), "reason": "fraud" }),
            409,
            "no_change",
        ),
    ] {
        let a = app.post_admin("/v1/admin/authorisations", &finance.token, body).await;
        assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
    }
    let forfeits: i64 = sqlx::query_scalar("SELECT count(*) FROM forfeits").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(forfeits, 0);

    // Finance proposes: the member's held 18 BNB, fixed now; the approver sees whose and how much.
    let body = json!({ "kind": "forfeit", "asset_id": 1, "wallet": format!("{member:#x}"), "reason": "fraud ring" });
    let p = app.post_admin("/v1/admin/authorisations", &finance.token, body.clone()).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!((p.body["kind"].as_str(), p.body["stage"].as_str()), (Some("forfeit"), Some("proposed")));
    assert_eq!(p.body["total"]["base"], (18 * BNB).to_string());
    assert_eq!(p.body["entries"][0]["address"], member.to_checksum(None));
    assert_eq!(p.body["approvals_required"], 1);
    // The payload is the Forfeit's digest: what the staff wallets sign names this member, amount and id.
    let forfeit_id: i64 = sqlx::query_scalar("SELECT id FROM forfeits").fetch_one(&app.db.pool).await.unwrap();
    let deadline = p.body["deadline"].as_u64().unwrap();
    let typed = abi::approval::Forfeit::new(member, Address::ZERO, U256::from(18 * BNB), forfeit_id as u64, deadline);
    assert_eq!(p.body["payload"], typed.digest(crate::common::CHAIN, SETTLEMENT).to_string());
    // A retry answers the same proposal.
    let again = app.post_admin("/v1/admin/authorisations", &finance.token, body).await;
    assert_eq!((again.status, &again.body["id"]), (200, &p.body["id"]), "{}", again.body);

    // The proposer's signature alone applies nothing.
    let a = sign_off(&app, &p.body, &finance, "propose").await;
    assert_eq!((a.status, a.body["stage"].as_str()), (200, Some("proposed")), "{}", a.body);
    assert_eq!(held_and_forfeited(&app, member).await, (18 * BNB, 0));
    // The approver's: applied at once, the member's held rewards are the company's.
    let a = sign_off(&app, &p.body, &approver, "approve").await;
    assert_eq!((a.status, a.body["stage"].as_str()), (200, Some("executed")), "{}", a.body);
    assert_eq!(held_and_forfeited(&app, member).await, (0, 18 * BNB));
    let status: String = sqlx::query_scalar("SELECT status FROM forfeits WHERE id = $1")
        .bind(forfeit_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "executed");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'forfeit_held'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    // Applying again (the sign route, after a crash say) changes nothing.
    let id = p.body["id"].as_i64().unwrap();
    let a = app.post_admin(&format!("/v1/admin/authorisations/{id}/sign"), &finance.token, json!({})).await;
    assert_eq!((a.status, a.body["stage"].as_str()), (200, Some("executed")), "{}", a.body);
    assert_eq!(held_and_forfeited(&app, member).await, (0, 18 * BNB));

    // The attack: the admin wallet holds every role in the API, none on the signer's list. It proposes and approves
    // a forfeit of the other member with the database's help: the API applies nothing the signer would not count.
    let body = json!({ "kind": "forfeit", "asset_id": 1, "wallet": format!("{other:#x}"), "reason": "mine" });
    let p = app.post_admin("/v1/admin/authorisations", &admin, body).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let id = p.body["id"].as_i64().unwrap();
    let proposed = sign_typed(&app.admin, &p.body["typed_data"]["propose"]);
    let a = app
        .post_admin(
            &format!("/v1/admin/authorisations/{id}/signatures"),
            &admin,
            json!({ "action": "propose", "signature": proposed }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let approve = alloy::hex::decode(sign_typed(&app.admin, &p.body["typed_data"]["approve"])).unwrap();
    sqlx::query("INSERT INTO authorisation_signatures (authorisation_id, wallet, action, signature) VALUES ($1, $2, 'approve', $3)")
        .bind(id)
        .bind(approver.key.address().as_slice())
        .bind(&approve)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE authorisations SET status = 'approved', approved_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let a = app.post_admin(&format!("/v1/admin/authorisations/{id}/sign"), &admin, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "approvals_missing"), "{}", a.body);
    assert_eq!(held_and_forfeited(&app, other).await, (18 * BNB, 0), "nothing moved");

    // A forfeit whose member's held rewards changed between proposal and approval fails, moving nothing.
    let r = app
        .post_admin(&format!("/v1/admin/authorisations/{id}/reject"), &approver.token, json!({ "reason": "no" }))
        .await;
    assert_eq!((r.status, r.body["stage"].as_str()), (200, Some("rejected")), "{}", r.body);
    let body = json!({ "kind": "forfeit", "asset_id": 1, "wallet": format!("{other:#x}"), "reason": "fraud ring" });
    let p = app.post_admin("/v1/admin/authorisations", &finance.token, body).await;
    assert_eq!((p.status, p.body["stage"].as_str()), (200, Some("proposed")), "{}", p.body);
    let a = app
        .post_admin(
            &format!("/v1/admin/users/{other:#x}/unfreeze"),
            &admin,
            json!({ "asset_id": 1, "reason": "cleared" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(sign_off(&app, &p.body, &finance, "propose").await.status, 200);
    let a = sign_off(&app, &p.body, &approver, "approve").await;
    assert_eq!((a.status, a.code()), (409, "forfeit_failed"), "{}", a.body);
    let id = p.body["id"].as_i64().unwrap();
    let a = app.get(&format!("/v1/admin/authorisations/{id}"), Some(&admin)).await;
    assert_eq!(a.body["stage"], "failed", "{}", a.body);
    assert_eq!(held_and_forfeited(&app, other).await, (0, 0), "the unfrozen member's rewards are pending, untouched");
}

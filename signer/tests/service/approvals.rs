//! Two people for every outflow (issue 45): with `[policy.approvals]`, the signer signs a payout batch, a treasury
//! transfer or a refund only with its proposer's wallet signature and enough approvers' over the exact outflow. The
//! attacker here holds the API's caller secret (the test client) and one staff wallet: it gets nothing signed.

use alloy::{
    primitives::Address,
    signers::{SignerSync, local::PrivateKeySigner},
};
use signer::{
    approvals::{ApprovalTier, ApprovalsConfig, staff_approval},
    intent::{
        Addr, Amount, Intent, PayoutBatchIntent, StaffAction, StaffSignature, TreasuryTransferIntent, WalletSignature,
    },
};

use crate::support::*;

struct Staff {
    proposer: PrivateKeySigner,
    approvers: [PrivateKeySigner; 2],
    outsider: PrivateKeySigner,
}

impl Staff {
    fn new() -> Self {
        Self {
            proposer: PrivateKeySigner::random(),
            approvers: [PrivateKeySigner::random(), PrivateKeySigner::random()],
            outsider: PrivateKeySigner::random(),
        }
    }

    /// A signer whose policy needs one approval for a batch (two above 1,000 of the native coin), two for a
    /// treasury transfer; the proposer is listed as an approver too, as a small team's finance lead would be.
    async fn app(&self) -> (TestApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path().join("signer.sqlite"));
        let approvers = self.approvers.iter().chain([&self.proposer]).map(|s| Addr(s.address())).collect();
        settings.policy.approvals = Some(ApprovalsConfig {
            proposers: vec![Addr(self.proposer.address())],
            approvers,
            payout_batch: 1,
            treasury_transfer: 2,
            refund: 2,
            forfeit: 1,
            payout_tiers: vec![ApprovalTier {
                chain_id: CHAIN_ID,
                token: Addr(Address::ZERO),
                above: Amount::from(1_000),
                approvals: 2,
            }],
        });
        (TestApp::spawn(settings).await, dir)
    }
}

/// `wallet`'s signature of `action` over the outflow `body` describes, as it names itself `named`.
fn sign_off<T>(body: &T, wallet: &PrivateKeySigner, action: StaffAction, named: Address) -> StaffSignature
where
    T: Clone + TryInto<Intent>,
    T::Error: std::fmt::Debug,
{
    let intent: Intent = body.clone().try_into().unwrap();
    let (nonce, deadline) = (intent.nonce.unwrap(), intent.deadline.unwrap());
    let approval = staff_approval(&intent, action, nonce, deadline).expect("an outflow");
    let digest = approval.digest(intent.target.chain_id, intent.target.contract);
    let signature = wallet.sign_hash_sync(&digest).unwrap();
    StaffSignature { wallet: Addr(named), action, signature: WalletSignature(signature) }
}

fn propose<T: Clone + TryInto<Intent>>(body: &T, wallet: &PrivateKeySigner) -> StaffSignature
where
    T::Error: std::fmt::Debug,
{
    sign_off(body, wallet, StaffAction::Propose, wallet.address())
}

fn approve<T: Clone + TryInto<Intent>>(body: &T, wallet: &PrivateKeySigner) -> StaffSignature
where
    T::Error: std::fmt::Debug,
{
    sign_off(body, wallet, StaffAction::Approve, wallet.address())
}

/// A native-coin batch with its nonce and deadline named (the approvals cover both).
fn batch(amounts: &[u128], nonce: u64) -> PayoutBatchIntent {
    let mut batch = payout_batch(amounts, Some(nonce));
    batch.token = Addr(Address::ZERO);
    batch.deadline = Some(now() + 300);
    batch
}

#[tokio::test]
async fn an_outflow_is_signed_only_with_its_proposer_s_and_an_approver_s_wallet_signatures() {
    let staff = Staff::new();
    let (app, _dir) = staff.app().await;
    let c = &app.client;
    let mut body = batch(&[400, 300], 1);
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approvals_missing".into()));
    body.approvals = vec![propose(&body, &staff.proposer)];
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approvals_missing".into()));
    body.approvals = vec![approve(&body, &staff.approvers[0])];
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approvals_missing".into()), "no proposer");
    assert_eq!(app.signed_count().await, 0, "nothing refused is signed");

    body.approvals = vec![propose(&body, &staff.proposer), approve(&body, &staff.approvers[0])];
    let signed = c.sign_payout_batch(&body).await.unwrap();
    assert_eq!(recovered(&signed), signer_address());
    assert_eq!(app.signed_count().await, 1);
    // The payload as signed carries its approvals: resent, it is the same signature.
    let again: PayoutBatchIntent = serde_json::from_value(signed.payload.clone()).unwrap();
    assert_eq!(again.approvals.len(), 2);
    assert_eq!(c.sign_payout_batch(&again).await.unwrap().signature, signed.signature);

    // Registrations and retopups move nothing out: no approvals.
    assert!(c.sign_register(&register(10, None)).await.is_ok());

    // The policy endpoint says who signs off and how many approvals each outflow of the asset needs.
    let policy = c.policy(CHAIN_ID, CONTRACT, Address::ZERO).await.unwrap();
    let shown = policy.approvals.expect("approvals configured");
    assert_eq!(shown.proposers, [Addr(staff.proposer.address())]);
    assert_eq!(shown.approvers.len(), 3);
    assert_eq!((shown.payout_batch, shown.treasury_transfer, shown.refund), (1, 2, 2));
    assert_eq!(shown.payout_tiers.len(), 1);
    assert_eq!((shown.payout_tiers[0].above, shown.payout_tiers[0].approvals), (Amount::from(1_000), 2));
    let usdt = c.policy(CHAIN_ID, CONTRACT, USDT).await.unwrap().approvals.unwrap();
    assert!(usdt.payout_tiers.is_empty(), "the tier is the native coin's");
}

#[tokio::test]
async fn the_api_s_secret_and_one_staff_wallet_get_no_outflow_signed() {
    let staff = Staff::new();
    let (app, _dir) = staff.app().await;
    let c = &app.client;
    let thief = &staff.proposer;
    let mut body = batch(&[500], 2);

    // Its own approval does not count, though the proposer is an approver too.
    body.approvals = vec![propose(&body, thief), approve(&body, thief)];
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approvals_missing".into()));
    // Signing as an approver it is not: the signature recovers to the thief, not to the approver named.
    body.approvals =
        vec![propose(&body, thief), sign_off(&body, thief, StaffAction::Approve, staff.approvers[0].address())];
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approval_invalid".into()));
    // A wallet nobody listed.
    body.approvals = vec![propose(&body, thief), approve(&body, &staff.outsider)];
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approval_invalid".into()));
    // A genuine approval of another outflow, replayed onto this one: another amount, another nonce, another
    // deadline, another chain.
    let approved_elsewhere = |other: &PayoutBatchIntent| {
        let mut tampered = body.clone();
        tampered.approvals = vec![propose(&body, thief), approve(other, &staff.approvers[0])];
        tampered
    };
    let mut more = body.clone();
    more.payouts[0].amount = Amount::from(499);
    let mut later = body.clone();
    later.deadline = Some(body.deadline.unwrap() + 1);
    let other_nonce = batch(&[500], 3);
    let mut elsewhere = body.clone();
    elsewhere.chain_id = 56;
    for other in [&more, &later, &other_nonce, &elsewhere] {
        let refused = refusal(c.sign_payout_batch(&approved_elsewhere(other)).await);
        assert_eq!(refused, (403, "policy.approval_invalid".into()), "{other:?}");
    }
    // Without a deadline the approvals cover, nothing to approve.
    let mut open = body.clone();
    open.deadline = None;
    open.approvals = Vec::new();
    assert_eq!(refusal(c.sign_payout_batch(&open).await), (403, "policy.approvals_missing".into()));
    // Proposing as someone else: no proposer's signature there is.
    body.approvals = vec![
        sign_off(&body, &staff.approvers[1], StaffAction::Propose, staff.approvers[1].address()),
        approve(&body, thief),
    ];
    assert_eq!(refusal(c.sign_payout_batch(&body).await), (403, "policy.approval_invalid".into()));
    assert_eq!(app.signed_count().await, 0);
}

#[tokio::test]
async fn a_larger_batch_and_a_treasury_transfer_need_two_approvers() {
    let staff = Staff::new();
    let (app, _dir) = staff.app().await;
    let c = &app.client;
    let mut large = batch(&[900, 200], 4);
    large.approvals = vec![propose(&large, &staff.proposer), approve(&large, &staff.approvers[0])];
    assert_eq!(refusal(c.sign_payout_batch(&large).await), (403, "policy.approvals_missing".into()));
    large.approvals.push(approve(&large, &staff.approvers[1]));
    assert!(c.sign_payout_batch(&large).await.is_ok(), "1,100 above the tier of 1,000: two approvals");

    let mut transfer: TreasuryTransferIntent = treasury_transfer(TREASURY, 50, Some(9));
    transfer.deadline = Some(now() + 300);
    transfer.approvals = vec![propose(&transfer, &staff.proposer), approve(&transfer, &staff.approvers[0])];
    assert_eq!(refusal(c.sign_treasury_transfer(&transfer).await), (403, "policy.approvals_missing".into()));
    // The same approver twice counts once.
    transfer.approvals.push(approve(&transfer, &staff.approvers[0]));
    assert_eq!(refusal(c.sign_treasury_transfer(&transfer).await), (403, "policy.approvals_missing".into()));
    transfer.approvals.push(approve(&transfer, &staff.approvers[1]));
    let signed = c.sign_treasury_transfer(&transfer).await.unwrap();
    assert_eq!(recovered(&signed), signer_address());
    assert_eq!(signed.nonce.0, abi::nonces::treasury_nonce(9));
    assert_eq!(app.signed_count().await, 2);
}

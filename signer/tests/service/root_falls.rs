//! No liability root cuts what members are owed on the caller's word (issue 65, backend/SOLVENCY.md §1): a root may fall
//! below the latest committed total by what the chain shows was paid to members since (`floor(token)`: payout
//! entries, claims, leaves) and the withdrawal fees the plans kept of it, and beyond that only within the asset's
//! daily allowance for the plans' own moves to the company. Before, the backend's caller secret alone got a root of
//! total 0 signed, and committed it would have lowered the floor and what the exit pays.

use alloy::{
    node_bindings::Anvil,
    primitives::{Address, B256, U256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use signer::{
    api::SignResponse,
    approvals::ApprovalsConfig,
    intent::{Addr, Amount, ApprovedForfeit, LiabilityRootIntent, StaffAction, StaffSignature, WalletSignature},
};

use crate::{onchain::*, support::*};

const CONFIRMATIONS: u64 = 1;
/// The generation plan's withdrawal fee: the company keeps ⌈E × 500 / 10000⌉ of an entry E.
const FEE_BPS: u32 = 500;
/// What roots may fall beyond the chain's explanation in 24 hours, in wei.
const DAILY_FALL: u128 = 10;

/// A native-coin root of `total` for `epoch`, as of `as_of`, on liability nonce `seq`.
fn root(chain: &Chain, epoch: u64, as_of: u64, total: u128, seq: u64) -> LiabilityRootIntent {
    LiabilityRootIntent {
        chain_id: chain.chain_id,
        contract: Addr(chain.settlement),
        token: Addr(abi::NATIVE_TOKEN),
        epoch,
        as_of_block: as_of,
        root: B256::repeat_byte(epoch as u8),
        total: Amount::from(total),
        leaf_count: 3,
        plan_hash: B256::ZERO,
        nonce: Some(Amount(abi::nonces::liability_nonce(seq))),
        deadline: None,
        forfeits: Vec::new(),
    }
}

/// Commits the signed root `intent` (answered `signed`) as the operator.
async fn commit(chain: &Chain, intent: &LiabilityRootIntent, signed: &SignResponse) -> eyre::Result<()> {
    let payload = abi::LiabilityRoot {
        token: intent.token.0,
        epoch: intent.epoch,
        asOfBlock: intent.as_of_block,
        root: intent.root,
        total: intent.total.0.to(),
        leafCount: intent.leaf_count,
        planHash: intent.plan_hash,
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    };
    let receipt = chain.settlement().commitLiabilities(payload, signed.signature.clone()).send().await?;
    eyre::ensure!(receipt.get_receipt().await?.status(), "commitLiabilities reverted");
    Ok(())
}

/// A member pays `paid` coins into custody, and a first root owing `owed` is signed and committed; returns the
/// member.
async fn funded_and_committed(chain: &Chain, app: &TestApp, paid: u128, owed: u128) -> eyre::Result<PrivateKeySigner> {
    let member = chain.account(3);
    let register = native_register(chain, member.address(), chain.admin.address(), paid);
    chain.pay_register(&member, &app.client.sign_register(&register).await?).await?;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    let first = root(chain, 1, as_of, owed, 1);
    commit(chain, &first, &app.client.sign_liability_root(&first).await?).await?;
    Ok(member)
}

#[tokio::test]
async fn a_root_falls_only_by_what_the_chain_paid_members_and_the_daily_allowance() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("signer.sqlite");
    let policy = |asset: &mut signer::policy::AssetConfig| {
        asset.withdrawal_fee_bps = FEE_BPS;
        asset.daily_root_fall_cap = Amount::from(DAILY_FALL);
    };
    let app = chain.signer_in(store.clone(), chain.anvil.endpoint(), CONFIRMATIONS, policy).await;
    // 10 coins in custody; the first commitment owes members 6.
    funded_and_committed(&chain, &app, 10 * ETH, 6 * ETH).await?;

    // The attack: the backend's credentials ask for a root owing nothing. Refused, nothing recorded.
    let before = app.signed_count().await;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(&chain, 2, as_of, 0, 2)).await),
        (403, "policy.root_fall".into())
    );
    // Nor one wei below the committed total while nothing was paid beyond the daily allowance.
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(&chain, 2, as_of, 6 * ETH - DAILY_FALL - 1, 2)).await),
        (403, "policy.root_fall".into())
    );
    assert_eq!(app.signed_count().await, before);

    // A batch pays a member 2 coins: the chain now explains a fall of 2 coins and the 5 % fee kept of the entries
    // it paid, ⌈2e18 × 500 / 9500⌉ wei at most.
    let batch = native_batch(&chain, Address::repeat_byte(0x77), 2 * ETH, 1);
    chain.pay_out(&batch, &app.client.sign_payout_batch(&batch).await?).await?;
    let fee = (2 * ETH * u128::from(FEE_BPS)).div_ceil(10_000 - u128::from(FEE_BPS));
    let explained = 6 * ETH - 2 * ETH - fee;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    // Exactly what the chain explains is signed; the allowance is spent by a root 10 wei below it, and then one
    // wei more in the same 24 hours is refused — across a restart too, the store keeping what fell.
    let second = root(&chain, 2, as_of, explained, 3);
    let second_signed = app.client.sign_liability_root(&second).await?;
    assert_eq!(recovered(&second_signed), signer_address());
    app.client.sign_liability_root(&root(&chain, 3, as_of, explained - DAILY_FALL, 4)).await?;
    app.stop().await;
    let app = chain.signer_in(store.clone(), chain.anvil.endpoint(), CONFIRMATIONS, policy).await;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(&chain, 4, as_of, explained - 1, 5)).await),
        (403, "policy.root_fall".into())
    );
    // A root at or above what the chain explains never needs the allowance.
    app.client.sign_liability_root(&root(&chain, 4, as_of, explained + ETH, 6)).await?;

    // The root at the chain's figure commits; the next root is measured from it, with nothing paid since.
    commit(&chain, &second, &second_signed).await?;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(&chain, 5, as_of, explained - 1, 7)).await),
        (403, "policy.root_fall".into())
    );
    app.client.sign_liability_root(&root(&chain, 5, as_of, explained, 8)).await?;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn without_an_allowance_a_root_falls_only_by_what_the_chain_paid() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let member = funded_and_committed(&chain, &app, 5 * ETH, 3 * ETH).await?;
    // The member's claim-free payout of 1 coin, and no fee kept by this asset's plans: 2 coins, not a wei less.
    let batch = native_batch(&chain, member.address(), ETH, 1);
    chain.pay_out(&batch, &app.client.sign_payout_batch(&batch).await?).await?;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(&chain, 2, as_of, 2 * ETH - 1, 2)).await),
        (403, "policy.root_fall".into())
    );
    let exact = root(&chain, 2, as_of, 2 * ETH, 3);
    commit(&chain, &exact, &app.client.sign_liability_root(&exact).await?).await?;
    app.stop().await;
    Ok(())
}

/// Staff wallets for forfeits: a proposer and an approver the policy lists, and an outsider it does not.
struct Staff {
    proposer: PrivateKeySigner,
    approver: PrivateKeySigner,
    outsider: PrivateKeySigner,
}

impl Staff {
    fn approvals(&self) -> ApprovalsConfig {
        ApprovalsConfig {
            proposers: vec![Addr(self.proposer.address())],
            // The proposer is an approver too, as a small team's finance lead would be: never of their own proposal.
            approvers: vec![Addr(self.approver.address()), Addr(self.proposer.address())],
            payout_batch: 1,
            treasury_transfer: 1,
            refund: 1,
            forfeit: 1,
            payout_tiers: Vec::new(),
        }
    }

    /// Forfeit `id` of `amount` of `member`'s held coins on `chain`, signed off by `signers` (each with its action).
    fn forfeit(
        chain: &Chain,
        id: u64,
        member: Address,
        amount: u128,
        signers: &[(&PrivateKeySigner, StaffAction)],
    ) -> ApprovedForfeit {
        let mut f = ApprovedForfeit {
            id,
            contract: Addr(chain.settlement),
            member: Addr(member),
            amount: Amount::from(amount),
            deadline: 4_000_000_000,
            approvals: Vec::new(),
        };
        let typed = f.forfeit(abi::NATIVE_TOKEN);
        f.approvals = signers
            .iter()
            .map(|(wallet, action)| {
                let digest = typed
                    .approval(action.as_str(), chain.chain_id, chain.settlement)
                    .digest(chain.chain_id, chain.settlement);
                StaffSignature {
                    wallet: Addr(wallet.address()),
                    action: *action,
                    signature: WalletSignature(wallet.sign_hash_sync(&digest).unwrap()),
                }
            })
            .collect();
        f
    }
}

/// Issue 65, item 4: a forfeit lowers a root only as an action two staff wallets approved, which the signer sees and
/// counts once. The attacker holds the backend's caller secret: a forfeit on one person's word, with a forged or
/// outsider's approval, or counted a second time, gets no root signed beyond the daily allowance.
#[tokio::test]
async fn a_root_falls_by_a_forfeit_only_when_two_staff_wallets_approved_it_and_only_once() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("signer.sqlite");
    let staff = Staff {
        proposer: PrivateKeySigner::random(),
        approver: PrivateKeySigner::random(),
        outsider: PrivateKeySigner::random(),
    };
    let approvals = staff.approvals();
    let asset = |asset: &mut signer::policy::AssetConfig| asset.daily_root_fall_cap = Amount::from(DAILY_FALL);
    let policy = |p: &mut signer::policy::PolicyConfig| p.approvals = Some(approvals.clone());
    let app = chain.signer_with_policy(store.clone(), chain.anvil.endpoint(), CONFIRMATIONS, asset, policy).await;
    let member = funded_and_committed(&chain, &app, 10 * ETH, 6 * ETH).await?;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    // Staff forfeit the member's 2 held coins: the next root owes 4.
    let owed = 4 * ETH;
    let with = |forfeits: Vec<ApprovedForfeit>, epoch: u64, seq: u64| LiabilityRootIntent {
        forfeits,
        ..root(&chain, epoch, as_of, owed, seq)
    };
    let (propose, approve) = (StaffAction::Propose, StaffAction::Approve);
    let signed_off =
        Staff::forfeit(&chain, 7, member.address(), 2 * ETH, &[(&staff.proposer, propose), (&staff.approver, approve)]);
    let before = app.signed_count().await;

    // Before: no forfeit named, the fall is the allowance's, and 2 coins exceed it.
    assert_eq!(
        refusal(app.client.sign_liability_root(&with(Vec::new(), 2, 2)).await),
        (403, "policy.root_fall".into())
    );
    // The proposer alone: no second person.
    let alone = Staff::forfeit(&chain, 7, member.address(), 2 * ETH, &[(&staff.proposer, propose)]);
    assert_eq!(
        refusal(app.client.sign_liability_root(&with(vec![alone], 2, 2)).await),
        (403, "policy.approvals_missing".into())
    );
    // The proposer approving their own proposal counts for nothing either.
    let own =
        Staff::forfeit(&chain, 7, member.address(), 2 * ETH, &[(&staff.proposer, propose), (&staff.proposer, approve)]);
    assert_eq!(
        refusal(app.client.sign_liability_root(&with(vec![own], 2, 2)).await),
        (403, "policy.approvals_missing".into())
    );
    // An approval by a wallet the signer does not list, and approvals of another amount passed off as this one.
    let outsider =
        Staff::forfeit(&chain, 7, member.address(), 2 * ETH, &[(&staff.proposer, propose), (&staff.outsider, approve)]);
    assert_eq!(
        refusal(app.client.sign_liability_root(&with(vec![outsider], 2, 2)).await),
        (403, "policy.approval_invalid".into())
    );
    let mut inflated = signed_off.clone();
    inflated.amount = Amount::from(5 * ETH);
    assert_eq!(
        refusal(app.client.sign_liability_root(&with(vec![inflated], 2, 2)).await),
        (403, "policy.approval_invalid".into())
    );
    // An approved forfeit of 1 coin does not explain a fall of 2.
    let smaller =
        Staff::forfeit(&chain, 8, member.address(), ETH, &[(&staff.proposer, propose), (&staff.approver, approve)]);
    assert_eq!(
        refusal(app.client.sign_liability_root(&with(vec![smaller], 2, 2)).await),
        (403, "policy.root_fall".into())
    );
    assert_eq!(app.signed_count().await, before, "every refusal recorded nothing");

    // Approved by two: signed, with the allowance untouched (a root 10 wei lower still passes).
    let second = with(vec![signed_off.clone()], 2, 2);
    let second_signed = app.client.sign_liability_root(&second).await?;
    assert_eq!(recovered(&second_signed), signer_address());
    let lower = LiabilityRootIntent { total: Amount::from(owed - DAILY_FALL), ..with(vec![signed_off.clone()], 3, 3) };
    app.client.sign_liability_root(&lower).await?;
    // Across a restart the forfeit still counts toward roots measured from the same commitment.
    app.stop().await;
    let app = chain.signer_with_policy(store.clone(), chain.anvil.endpoint(), CONFIRMATIONS, asset, policy).await;
    app.client.sign_liability_root(&with(vec![signed_off.clone()], 4, 4)).await?;

    // Once a root counting it is committed, the same forfeit explains nothing more: a second fall of 2 coins named
    // with it is refused.
    commit(&chain, &second, &second_signed).await?;
    chain.mine(CONFIRMATIONS + 1).await;
    let as_of = chain.latest().await.0 - CONFIRMATIONS;
    let again = LiabilityRootIntent { forfeits: vec![signed_off], ..root(&chain, 5, as_of, 2 * ETH, 5) };
    assert_eq!(refusal(app.client.sign_liability_root(&again).await), (403, "policy.root_fall".into()));
    app.client.sign_liability_root(&root(&chain, 5, as_of, owed, 6)).await?;
    app.stop().await;
    Ok(())
}

//! A forfeit of a member's held rewards (PLAN.md §5) as an outflow: fixed when proposed (the rewards and their sum),
//! approved by staff like any outflow, applied — not signed: it sends nothing — once approved and counted by the
//! signer's own list of proposers and approvers; a liability root then falls by it, which the signer allows once it
//! checked its staff signatures (backend/SOLVENCY.md §1).

use alloy::primitives::Address;
use ledger::authorisations::{Authorisation, AuthorisationStatus, OutflowKind, SignAction};
use ledger::forfeits::{self, ForfeitError};
use signer_client::api::AssetApprovals;
use signer_client::intent::Addr;

use super::context::OutflowContext;
use super::outflow::{Outflow, OutflowFuture, Recipients};
use super::signer::authorisation_refusal;
use crate::refusal::Refusal;

/// A forfeit step's refusal.
pub fn forfeit_refusal(e: ForfeitError) -> Refusal {
    match e {
        ForfeitError::Admin(e) => e.into(),
        ForfeitError::Authorisation(e) => authorisation_refusal(e),
        ForfeitError::Unknown(_) => Refusal::NotFound,
        ForfeitError::NotReady(message) => Refusal::Conflict { code: "forfeit_not_ready", message },
        ForfeitError::Changed(message) => Refusal::Conflict { code: "forfeit_failed", message },
    }
}

/// Proposes the forfeit of every held reward's rest of `member` of `asset_id` by finance wallet `proposer`, with
/// `reason`, approvable until the chain's time plus the chain's `approval_window_secs`.
pub async fn propose(
    cx: &OutflowContext,
    proposer: Address,
    asset_id: i32,
    member: Address,
    reason: &str,
) -> Result<Authorisation, Refusal> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::unprocessable("invalid_body", "a forfeit needs a reason"));
    }
    let asset = super::context::asset(&cx.db, asset_id).await?;
    let chain = cx.chains.chain(asset.chain_id)?;
    let domain = forfeits::Domain { chain_id: asset.chain_id, contract: chain.settlement };
    let deadline = chain.now(&cx.clock).await + chain.approval_window_secs;
    forfeits::propose(&cx.db, asset_id, member, reason, proposer, domain, deadline).await.map_err(forfeit_refusal)
}

/// Whether the signer's list (`approvals`, its `GET /v1/policy`) counts `a`'s signatures as the signer will: the
/// proposer one of its proposers, and `needed` approvals from its approvers other than the proposer. A forfeit is
/// applied only then; the signer checks the signatures themselves again when a root carries it.
pub fn signer_counts(a: &Authorisation, approvals: Option<&AssetApprovals>, needed: u64) -> Result<(), String> {
    let Some(p) = approvals else {
        return Err("the signer's list of proposers and approvers could not be read (or it sets none): a forfeit \
                    applies only once the signer's own list counts its approvals"
            .into());
    };
    let listed = |list: &[Addr], w: Address| list.iter().any(|x| x.0 == w);
    if !listed(&p.proposers, a.proposer) {
        return Err(format!("the signer does not list the proposer {} as a proposer", a.proposer.to_checksum(None)));
    }
    let counted = a
        .signatures
        .iter()
        .filter(|s| s.action == SignAction::Approve && s.wallet != a.proposer && listed(&p.approvers, s.wallet))
        .count() as u64;
    if counted < needed {
        return Err(format!(
            "{counted} of the {needed} approvals it needs come from approvers the signer lists: the signer would \
             refuse every liability root that falls by this forfeit"
        ));
    }
    Ok(())
}

/// A forfeit.
#[derive(Debug, Clone, Copy)]
pub struct Forfeit;

impl Outflow for Forfeit {
    fn kind(&self) -> OutflowKind {
        OutflowKind::Forfeit
    }

    fn approvals_required(&self, _a: &Authorisation, p: &AssetApprovals) -> u64 {
        p.forfeit
    }

    /// Nothing is sent: the forfeit moves money inside the ledger.
    fn gas(&self, _entries: usize) -> u64 {
        0
    }

    /// The member whose held rewards go to the company, and how much.
    fn recipients<'a>(&'a self, cx: &'a OutflowContext, a: &'a Authorisation) -> OutflowFuture<'a, Recipients> {
        Box::pin(async move {
            Ok(match forfeits::load(&cx.db, a.subject).await {
                Ok(f) => Recipients::One { to: f.member, amount: f.amount },
                Err(_) => Recipients::Nobody,
            })
        })
    }

    /// Applied, not signed: once approved and counted by the signer's own list (again, after a crash between
    /// approval and applying).
    fn sign<'a>(&'a self, cx: &'a OutflowContext, staff: Address, a: &'a Authorisation) -> OutflowFuture<'a, ()> {
        Box::pin(async move {
            let policy = super::context::signer_approvals(cx, a).await;
            let needed = super::outflow::approvals_needed(self, a, policy.as_ref());
            signer_counts(a, policy.as_ref(), needed)
                .map_err(|message| Refusal::Conflict { code: "approvals_missing", message })?;
            let now = cx.chains.chain(a.chain_id)?.now(&cx.clock).await;
            forfeits::apply(&cx.db, a.subject, staff, now).await.map_err(forfeit_refusal)?;
            Ok(())
        })
    }

    /// An approved forfeit applies at once — once the signer's own list counts its signatures (else it stays approved
    /// and unapplied: the signer would refuse every root that falls by it).
    fn approved<'a>(
        &'a self,
        cx: &'a OutflowContext,
        staff: Address,
        a: &'a Authorisation,
        policy: Option<&'a AssetApprovals>,
        needed: u64,
    ) -> OutflowFuture<'a, ()> {
        Box::pin(async move {
            if a.status == AuthorisationStatus::Approved && a.outflow_open() && signer_counts(a, policy, needed).is_ok()
            {
                let now = cx.chains.chain(a.chain_id)?.now(&cx.clock).await;
                forfeits::apply(&cx.db, a.subject, staff, now).await.map_err(forfeit_refusal)?;
            }
            Ok(())
        })
    }
}

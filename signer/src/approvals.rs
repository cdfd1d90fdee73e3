//! Two people for every outflow (issue 45): with `[policy.approvals]` configured, the signer signs a payout batch, a
//! treasury transfer or a refund only when it carries the signature of a proposer and of enough approvers, each made
//! by the staff member's own wallet over the outflow's exact Settlement digest ([`abi::approval::StaffApproval`]).
//! The signer recovers every wallet itself from its list; the caller's word counts for nothing, so neither the API
//! nor its database nor one stolen staff wallet can get an outflow signed:
//!
//! * exactly one proposer's signature, from `proposers`;
//! * at least the kind's number of approvals (`payout_batch`, `treasury_transfer`, `refund`; a payout batch above an
//!   asset's tier needs the tier's number), each from a distinct wallet of `approvers` that is not the proposer's —
//!   the proposer's own approval does not count;
//! * every signature over this outflow: another amount, entry, nonce, deadline, contract or chain is another digest,
//!   and its signature recovers to another wallet (`policy.approval_invalid`);
//! * the outflow names its deadline, since the approvals cover it.
//!
//! Liability roots are the system's own (the solvency worker's, checked against the chain by the signer's node);
//! registrations and retopups move no money out. Neither carries approvals — but a liability root carries the
//! forfeits staff approved since the latest commitment ([`abi::approval::Forfeit`], issue 65 item 4): each is checked
//! here as an outflow is (one proposer's signature, `forfeit` approvals from other approvers) before the root's total
//! may fall by it (backend/SOLVENCY.md §1).

use std::collections::HashSet;

use abi::approval::{FORFEIT, StaffApproval};
use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::intent::{Action, Addr, Amount, ApprovedForfeit, Intent, StaffAction, StaffSignature};

/// Why an outflow's staff signatures do not suffice; the policy answers it as `policy.approvals_missing`,
/// `policy.approval_invalid` or `policy.nonce_space`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unapproved {
    /// No proposer's signature, too few approvals, or no deadline for them to cover.
    Missing(String),
    /// A signature not over this outflow, or from a wallet not listed for what it signs.
    Invalid(String),
    /// An outflow without its nonce.
    NoNonce,
}

/// `[policy.approvals]`: who may propose and approve outflows, and how many approvals each kind needs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// Staff wallets that may propose an outflow (finance).
    pub proposers: Vec<Addr>,
    /// Staff wallets whose approvals count (approvers).
    pub approvers: Vec<Addr>,
    /// Approvals a payout batch needs besides its proposer's (at least 1).
    pub payout_batch: usize,
    /// Approvals a treasury transfer needs besides its proposer's (at least 1).
    pub treasury_transfer: usize,
    /// Approvals a refund needs besides its proposer's (at least 1).
    pub refund: usize,
    /// Approvals a forfeit needs besides its proposer's before a liability root may fall by it (at least 1; 1 when
    /// absent).
    #[serde(default = "one")]
    pub forfeit: usize,
    /// Payout batches of an asset above a total need more approvals.
    #[serde(default)]
    pub payout_tiers: Vec<ApprovalTier>,
}

fn one() -> usize {
    1
}

/// `[[policy.approvals.payout_tiers]]`: a payout batch of `token` on `chain_id` whose total is above `above` (base
/// units) needs `approvals` approvals.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApprovalTier {
    /// The chain.
    pub chain_id: u64,
    /// The asset (zero address: the native coin).
    pub token: Addr,
    /// The total above which the tier applies.
    pub above: Amount,
    /// Approvals needed above it.
    pub approvals: usize,
}

/// Which approvals an outflow needs: [`ApprovalsConfig`] checked.
#[derive(Clone, Debug)]
pub struct Approvals {
    proposers: HashSet<Address>,
    approvers: HashSet<Address>,
    payout_batch: usize,
    treasury_transfer: usize,
    refund: usize,
    forfeit: usize,
    tiers: Vec<ApprovalTier>,
}

/// Who signed off an outflow, as the signer verified it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedOff {
    /// The proposer's wallet.
    pub proposer: Address,
    /// The approvers' wallets that counted, sorted.
    pub approvers: Vec<Address>,
}

impl TryFrom<ApprovalsConfig> for Approvals {
    type Error = String;

    fn try_from(c: ApprovalsConfig) -> Result<Self, String> {
        let invalid = |why: String| Err(format!("approvals: {why}"));
        if c.proposers.is_empty() {
            return invalid("no proposers: nobody could propose an outflow".into());
        }
        if [&c.proposers, &c.approvers].into_iter().flatten().any(|a| a.0.is_zero()) {
            return invalid("the zero address is no staff wallet".into());
        }
        let approvers: HashSet<Address> = c.approvers.iter().map(|a| a.0).collect();
        let most = c.tiers_max().max(c.payout_batch).max(c.treasury_transfer).max(c.refund).max(c.forfeit);
        for (kind, n) in [
            ("payout_batch", c.payout_batch),
            ("treasury_transfer", c.treasury_transfer),
            ("refund", c.refund),
            (FORFEIT, c.forfeit),
        ] {
            if n == 0 {
                return invalid(format!("{kind} = 0: every outflow needs a second person's approval"));
            }
        }
        if approvers.len() < most {
            return invalid(format!(
                "{most} approvals are required somewhere, but only {} approvers are listed",
                approvers.len()
            ));
        }
        Ok(Self {
            proposers: c.proposers.iter().map(|a| a.0).collect(),
            approvers,
            payout_batch: c.payout_batch,
            treasury_transfer: c.treasury_transfer,
            refund: c.refund,
            forfeit: c.forfeit,
            tiers: c.payout_tiers,
        })
    }
}

impl ApprovalsConfig {
    fn tiers_max(&self) -> usize {
        self.payout_tiers.iter().map(|t| t.approvals).max().unwrap_or(0)
    }
}

/// The outflow kind an approval names (`payout_batch`, `treasury_transfer`, `refund`); `None` for a payload that
/// moves no money out or is the system's own.
pub fn outflow_kind(action: &Action) -> Option<&'static str> {
    match action {
        Action::PayoutBatch { .. } => Some("payout_batch"),
        Action::TreasuryTransfer { refund_of: None, .. } => Some("treasury_transfer"),
        Action::TreasuryTransfer { refund_of: Some(_), .. } => Some("refund"),
        Action::Register { .. } | Action::Retopup { .. } | Action::LiabilityRoot { .. } | Action::Sale(_) => None,
    }
}

/// What a staff wallet signs for `action` of `intent` with `nonce` and `deadline`: `None` when the intent is no
/// outflow.
pub fn staff_approval(intent: &Intent, action: StaffAction, nonce: U256, deadline: u64) -> Option<StaffApproval> {
    let kind = outflow_kind(&intent.action)?;
    let payload: B256 = intent.payload(nonce, deadline).digest(&intent.target.domain());
    Some(approval_of(intent, kind, action, payload, nonce, deadline))
}

/// The approval of `action` of `intent`, an outflow of `kind` whose Settlement digest is `payload`.
fn approval_of(
    intent: &Intent,
    kind: &str,
    action: StaffAction,
    payload: B256,
    nonce: U256,
    deadline: u64,
) -> StaffApproval {
    StaffApproval::new(action.as_str(), kind, payload, intent.action.token(), intent.action.total(), nonce, deadline)
}

impl Approvals {
    /// What `GET /v1/policy` shows of them for `token` on `chain_id`.
    pub fn view(&self, chain_id: u64, token: Address) -> crate::api::AssetApprovals {
        let sorted = |set: &HashSet<Address>| {
            let mut list: Vec<Addr> = set.iter().copied().map(Addr).collect();
            list.sort_by_key(|a| a.0);
            list
        };
        let mut payout_tiers: Vec<crate::api::ApprovalTierView> = self
            .tiers
            .iter()
            .filter(|t| t.chain_id == chain_id && t.token.0 == token)
            .map(|t| crate::api::ApprovalTierView { above: t.above, approvals: t.approvals as u64 })
            .collect();
        payout_tiers.sort_by_key(|t| t.above);
        crate::api::AssetApprovals {
            proposers: sorted(&self.proposers),
            approvers: sorted(&self.approvers),
            payout_batch: self.payout_batch as u64,
            payout_tiers,
            treasury_transfer: self.treasury_transfer as u64,
            refund: self.refund as u64,
            forfeit: self.forfeit as u64,
        }
    }

    /// How many approvals `intent` (an outflow of `kind`) needs.
    fn required(&self, kind: &str, intent: &Intent) -> usize {
        let base = match kind {
            "payout_batch" => self.payout_batch,
            "treasury_transfer" => self.treasury_transfer,
            _ => self.refund,
        };
        if kind != "payout_batch" {
            return base;
        }
        let (chain_id, token, total) = (intent.target.chain_id, intent.action.token(), intent.action.total());
        self.tiers
            .iter()
            .filter(|t| t.chain_id == chain_id && t.token.0 == token && total > t.above.0)
            .map(|t| t.approvals)
            .fold(base, usize::max)
    }

    /// Checks `intent`'s staff signatures as the module says; `Ok(None)` for a payload that needs none. Recovers
    /// up to [`crate::intent::MAX_STAFF_SIGNATURES`] signatures: run off the async workers.
    pub fn check(&self, intent: &Intent) -> Result<Option<SignedOff>, Unapproved> {
        let Some(kind) = outflow_kind(&intent.action) else { return Ok(None) };
        let Some(nonce) = intent.nonce else { return Err(Unapproved::NoNonce) };
        let Some(deadline) = intent.deadline else {
            return Err(Unapproved::Missing(
                "an outflow that needs approvals names its deadline: they cover it".into(),
            ));
        };
        let (chain_id, contract) = (intent.target.chain_id, intent.target.contract);
        // Once: a batch's digest hashes every entry.
        let payload = intent.payload(nonce, deadline).digest(&intent.target.domain());
        let digest = |action| approval_of(intent, kind, action, payload, nonce, deadline).digest(chain_id, contract);
        self.signed_off(kind, &intent.approvals, self.required(kind, intent), digest).map(Some)
    }

    /// Checks the staff signatures of every forfeit a liability root `intent` carries (none for another payload):
    /// each over that forfeit of the root's token, for the root's chain and a contract of it in `contracts` (the
    /// policy's), by one proposer and `forfeit` approvers other than them. Answers each forfeit's id and amount with
    /// who signed it off. Recovers up to [`crate::intent::MAX_STAFF_SIGNATURES`] signatures a forfeit: run off the
    /// async workers.
    pub fn check_forfeits(
        &self,
        intent: &Intent,
        contracts: &[Address],
    ) -> Result<Vec<(u64, U256, SignedOff)>, Unapproved> {
        let Action::LiabilityRoot { token, forfeits, .. } = &intent.action else { return Ok(Vec::new()) };
        let chain_id = intent.target.chain_id;
        forfeits
            .iter()
            .map(|f: &ApprovedForfeit| {
                let contract = f.contract.0;
                if !contracts.contains(&contract) {
                    return Err(Unapproved::Invalid(format!(
                        "forfeit {}: its approvals name contract {contract}, which the policy does not allow on chain \
                         {chain_id}",
                        f.id
                    )));
                }
                let forfeit = f.forfeit(*token);
                let digest = |action: StaffAction| {
                    forfeit.approval(action.as_str(), chain_id, contract).digest(chain_id, contract)
                };
                let off = self
                    .signed_off(FORFEIT, &f.approvals, self.forfeit, digest)
                    .map_err(|e| e.about(&format!("forfeit {}", f.id)))?;
                Ok((f.id, f.amount.0, off))
            })
            .collect()
    }

    /// Who signed off something of `kind` whose approval of each action has `digest`: exactly one proposer from
    /// `proposers`, and `required` approvers other than them.
    fn signed_off(
        &self,
        kind: &str,
        signatures: &[StaffSignature],
        required: usize,
        digest: impl Fn(StaffAction) -> B256,
    ) -> Result<SignedOff, Unapproved> {
        let invalid = |why: String| Err(Unapproved::Invalid(why));
        let mut proposer = None;
        let mut approvers = HashSet::new();
        for staff in signatures {
            let wallet = staff.wallet.0;
            let recovered = staff.signature.0.recover_address_from_prehash(&digest(staff.action)).ok();
            if recovered != Some(wallet) {
                return invalid(format!("the {} signature of {wallet} is not over this {kind}", staff.action.as_str()));
            }
            match staff.action {
                StaffAction::Propose if !self.proposers.contains(&wallet) => {
                    return invalid(format!("{wallet} is not a proposer"));
                }
                StaffAction::Propose if proposer.is_some_and(|p| p != wallet) => {
                    return invalid(format!("two proposers sign this {kind}"));
                }
                StaffAction::Propose => proposer = Some(wallet),
                StaffAction::Approve if !self.approvers.contains(&wallet) => {
                    return invalid(format!("{wallet} is not an approver"));
                }
                StaffAction::Approve => {
                    approvers.insert(wallet);
                }
            }
        }
        let Some(proposer) = proposer else {
            return Err(Unapproved::Missing(format!("no proposer's signature on this {kind}")));
        };
        approvers.remove(&proposer);
        if approvers.len() < required {
            return Err(Unapproved::Missing(format!(
                "{} of the {required} approvals this {kind} needs, from approvers other than its proposer",
                approvers.len()
            )));
        }
        let mut approvers: Vec<Address> = approvers.into_iter().collect();
        approvers.sort();
        Ok(SignedOff { proposer, approvers })
    }
}

impl Unapproved {
    /// The same refusal, its words saying what it is about.
    fn about(self, what: &str) -> Self {
        match self {
            Unapproved::Missing(why) => Unapproved::Missing(format!("{what}: {why}")),
            Unapproved::Invalid(why) => Unapproved::Invalid(format!("{what}: {why}")),
            Unapproved::NoNonce => Unapproved::NoNonce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ApprovalsConfig {
        ApprovalsConfig {
            proposers: vec![Addr(Address::repeat_byte(1))],
            approvers: vec![Addr(Address::repeat_byte(2)), Addr(Address::repeat_byte(3))],
            payout_batch: 1,
            treasury_transfer: 2,
            refund: 1,
            forfeit: 1,
            payout_tiers: Vec::new(),
        }
    }

    fn refused(config: ApprovalsConfig) -> String {
        Approvals::try_from(config).unwrap_err()
    }

    #[test]
    fn a_policy_that_lets_one_person_move_money_is_refused_at_start() {
        assert!(Approvals::try_from(config()).is_ok());
        let alone = refused(ApprovalsConfig { payout_batch: 0, ..config() });
        assert!(alone.contains("payout_batch = 0: every outflow needs a second person"), "{alone}");
        let short = refused(ApprovalsConfig { treasury_transfer: 3, ..config() });
        assert!(short.contains("3 approvals are required somewhere, but only 2 approvers"), "{short}");
        let forfeit = refused(ApprovalsConfig { forfeit: 0, ..config() });
        assert!(forfeit.contains("forfeit = 0: every outflow needs a second person"), "{forfeit}");
        let tier = ApprovalTier { chain_id: 1, token: Addr(Address::ZERO), above: Amount::from(5), approvals: 4 };
        assert!(refused(ApprovalsConfig { payout_tiers: vec![tier], ..config() }).contains("4 approvals"));
        assert!(refused(ApprovalsConfig { proposers: Vec::new(), ..config() }).contains("no proposers"));
        let zero = ApprovalsConfig { approvers: vec![Addr(Address::ZERO), Addr(Address::repeat_byte(2))], ..config() };
        assert!(refused(zero).contains("zero address"));
    }
}

//! `/v1/admin/authorisations`: the one lifecycle of outflows (backend/STAFF.md §3). Finance proposes a built payout
//! batch — its nonce and deadline are fixed at once, the deadline the chain's time plus the approval window — and signs
//! the `StaffApproval` typed data the answer carries with its own wallet; approvers other than the proposer approve
//! (or reject with a reason) the same way. The batch's sign call then carries the stored signatures to the signer,
//! which checks them against its own list. The state machine is `ledger::authorisations`; this module maps it to
//! answers and adds what an approver needs to decide.
//!
//! Solvency commitments are the system-approved kind (`solvency_commitment`): the solvency worker records each one
//! approved, with no staff signature. They are listed with `kind=solvency_commitment` only (one a minute would drown
//! the queue otherwise); proposing, signing off, rejecting or signing one here is 409 `system_authorisation`.

use std::collections::HashMap;

use axum::extract::State;
use ledger::authorisations::{self as auth, Authorisation, AuthorisationError, OutflowKind, SignAction, Stage};
use serde::{Deserialize, Serialize};
use signer_client::api::AssetApprovals;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::bounded;
use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AdminUser, Json, Path, Query, Staff, need, parse_address};
use crate::http::page::MAX_PAGE;
use crate::http::payouts::{BatchEntry, load_batch};
use crate::http::types::{AssetAmount, AssetMeta, parse_amount, show_address};
use crate::outflows::{Recipients, required, signer_approvals};

/// A step of the lifecycle refused, as the API answers it.
fn refusal(e: AuthorisationError) -> ApiError {
    crate::outflows::signer::authorisation_refusal(e).into()
}

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list, propose))
        .routes(routes!(detail))
        .routes(routes!(add_signature))
        .routes(routes!(reject))
        .routes(routes!(sign))
}

/// A staff wallet's signature stored with an authorisation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffSignatureView {
    /// The wallet, 0x EIP-55.
    pub wallet: String,
    /// `propose` or `approve`.
    pub action: String,
    /// When, RFC 3339 UTC.
    pub signed_at: String,
}

/// An outflow in the one lifecycle: what it moves, who proposed and approved it, and what is still missing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorisationView {
    /// Its id.
    pub id: i64,
    /// `payout_batch`, `treasury_transfer`, `refund`, or `solvency_commitment` (the system's: approved when the
    /// solvency worker records it, with no staff signature).
    pub kind: String,
    /// The outflow's own id: `/v1/admin/payouts/batches/{subject}`, the treasury transfer's (a refund is one) in
    /// `/v1/admin/treasury/transfers`, or a solvency commitment's epoch row (the asset's epochs are in
    /// `/v1/public/solvency/{asset_id}/epochs`).
    pub subject: i64,
    /// The asset it moves.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: u64,
    /// The Settlement contract it is signed for, in the chain's form.
    pub contract: String,
    /// `proposed`, `approved`, `signed`, `sent`, `executed`, or `rejected`, `expired`, `failed`, `cancelled` (by the
    /// chain's clock and the outflow's own status).
    pub stage: String,
    /// What leaves custody (a solvency commitment's: the liabilities it commits, nothing leaves).
    pub total: AssetAmount,
    /// The withdrawal fee the contract keeps of it (the plan's `withdrawal_fee_bps` of each entry).
    pub fee: AssetAmount,
    /// What the recipients receive in all: `total` less `fee`.
    pub net: AssetAmount,
    /// The outflow's contract nonce (decimal).
    pub nonce: String,
    /// Unix seconds (the chain's clock) after which the outflow can no longer be signed or executed.
    pub deadline: u64,
    /// The outflow's Settlement EIP-712 digest (0x hex): what every staff signature covers.
    pub payload: String,
    /// The finance wallet that proposed it, 0x EIP-55 (the zero address for a solvency commitment: the system).
    pub proposer: String,
    /// When, RFC 3339 UTC.
    pub proposed_at: String,
    /// When enough signatures were in.
    pub approved_at: Option<String>,
    /// Who rejected it.
    pub decided_by: Option<String>,
    /// When it was rejected or found expired.
    pub decided_at: Option<String>,
    /// The rejection's reason.
    pub decision_reason: Option<String>,
    /// The staff signatures given, in order.
    pub signatures: Vec<StaffSignatureView>,
    /// Approvals the signer requires for this outflow besides the proposer's (its `GET /v1/policy`; 1 when the signer
    /// sets none or cannot be asked; 0 for a solvency commitment, the system's).
    pub approvals_required: u64,
    /// What is still missing before it can be signed, in English words (empty once approved); `missing_proposer` and
    /// `missing_approvals` say the same as data, for a client that writes it in its reader's language.
    pub missing: Vec<String>,
    /// The proposer's wallet while its own signature is still missing (else null).
    pub missing_proposer: Option<String>,
    /// How many more approvals, from approvers other than the proposer, are still missing (0 once enough are in).
    pub missing_approvals: u64,
    /// Wallets whose approvals the signer counts (its list; empty when it sets none).
    pub approvers: Vec<String>,
    /// The recipients and their amounts: a payout batch's entries, or a transfer's or refund's one recipient (none
    /// for a solvency commitment, which moves nothing).
    pub entries: Vec<BatchEntry>,
    /// The asset's custody on chain now (committed liabilities, balance, floor); null when the chain cannot be read
    /// (`chain_note` says why).
    pub custody: Option<crate::http::treasury::CustodyView>,
    /// The estimated network fee of the outflow's transaction; null with `custody`.
    pub network_fee: Option<crate::http::treasury::NetworkFeeView>,
    /// Why `custody` and `network_fee` are null.
    pub chain_note: Option<String>,
    /// EIP-712 typed data to sign with `eth_signTypedData_v4`: `propose` (the proposer's) and `approve`
    /// (an approver's). Integers are decimal strings. Empty (`{}`) for a solvency commitment: no staff signs it.
    #[schema(value_type = Object)]
    pub typed_data: serde_json::Value,
}

/// The typed data a staff wallet signs to `action` authorisation `a` ([`abi::approval::StaffApproval`]).
fn typed_data(a: &Authorisation, action: SignAction) -> serde_json::Value {
    let field = |name: &str, ty: &str| serde_json::json!({ "name": name, "type": ty });
    serde_json::json!({
        "types": {
            "EIP712Domain": [field("name", "string"), field("version", "string"), field("chainId", "uint256"),
                field("verifyingContract", "address")],
            "StaffApproval": [field("action", "string"), field("kind", "string"), field("payload", "bytes32"),
                field("token", "address"), field("total", "uint256"), field("nonce", "uint256"),
                field("deadline", "uint256")],
        },
        "primaryType": "StaffApproval",
        "domain": {
            "name": abi::approval::APPROVAL_DOMAIN_NAME,
            "version": abi::approval::APPROVAL_DOMAIN_VERSION,
            "chainId": abi::signing_chain_id(a.chain_id),
            "verifyingContract": a.contract.to_checksum(None),
        },
        "message": {
            "action": action, "kind": a.kind, "payload": a.payload.to_string(), "token": a.token.to_checksum(None),
            "total": a.total.to_string(), "nonce": a.nonce.to_string(), "deadline": a.deadline.to_string(),
        },
    })
}

/// What the views of one answer read once: each asset's signer approvals, each asset's custody at a contract.
#[derive(Default)]
struct Lookups {
    policies: HashMap<i32, Option<AssetApprovals>>,
    custody: HashMap<(i32, alloy::primitives::Address), CustodyRead>,
}

/// An asset's custody and the chain's gas price, or why they could not be read.
type CustodyRead = Result<(crate::http::treasury::CustodyView, alloy::primitives::U256), String>;

/// The one entry of an authorisation that is not a batch: a transfer's or refund's recipient, a forfeit's member.
fn single_entry(meta: &AssetMeta, chain_id: u64, address: &[u8], amount: alloy::primitives::U256) -> BatchEntry {
    BatchEntry {
        position: 0,
        address: show_address(chain_id, address),
        amount: meta.amount(amount),
        fee: meta.amount(0),
        owed: meta.amount(amount),
        limited_by: None,
        outcome: None,
    }
}

async fn view(ctx: &ApiContext, a: Authorisation, lookups: &mut Lookups) -> Result<AuthorisationView, ApiError> {
    let outflows = ctx.outflows();
    let outflow = crate::outflows::of(a.kind);
    let policies = &mut lookups.policies;
    let meta = AssetMeta::load(ctx, a.asset_id).await?;
    let now = ctx.chains.chain(a.chain_id)?.now(&ctx.clock).await;
    let system = a.is_system();
    // The system's authorisation needs no staff: the signer's approvals are not asked for.
    if !system && let std::collections::hash_map::Entry::Vacant(e) = policies.entry(a.asset_id) {
        e.insert(signer_approvals(&outflows, &a).await);
    }
    let (approvals_required, approvers) = required(&a, policies.get(&a.asset_id).and_then(Option::as_ref));
    let approvers = approvers.iter().map(|w| w.to_checksum(None)).collect();
    let (proposed, given) = a.approvals();
    let stage = a.stage(now);
    let mut missing = Vec::new();
    let (mut missing_proposer, mut missing_approvals) = (None, 0);
    if !system && matches!(stage, Stage::Proposed | Stage::Approved) {
        if !proposed {
            let wallet = a.proposer.to_checksum(None);
            missing.push(format!("the proposer's signature ({wallet})"));
            missing_proposer = Some(wallet);
        }
        if (given as u64) < approvals_required {
            missing_approvals = approvals_required - given as u64;
            missing.push(format!("{missing_approvals} more approval(s) from an approver other than the proposer"));
        }
    }
    let entries = match outflow.recipients(&outflows, &a).await? {
        Recipients::Batch => load_batch(ctx, a.subject).await?.entries,
        Recipients::One { to, amount } => vec![single_entry(&meta, a.chain_id, to.as_slice(), amount)],
        Recipients::Nobody => Vec::new(),
    };
    let fee = a.fee;
    let gas = outflow.gas(entries.len());
    let key = (a.asset_id, a.contract);
    if let std::collections::hash_map::Entry::Vacant(e) = lookups.custody.entry(key) {
        e.insert(crate::http::treasury::custody(ctx, a.chain_id, a.contract, &meta).await);
    }
    let (custody, network_fee, chain_note) = match &lookups.custody[&key] {
        Ok((custody, price)) => {
            (Some(custody.clone()), Some(crate::http::treasury::network_fee(a.chain_id, gas, *price)), None)
        }
        Err(note) => (None, None, Some(note.clone())),
    };
    let typed = if system {
        serde_json::json!({})
    } else {
        serde_json::json!({
            "propose": typed_data(&a, SignAction::Propose),
            "approve": typed_data(&a, SignAction::Approve),
        })
    };
    Ok(AuthorisationView {
        id: a.id,
        kind: a.kind.to_string(),
        subject: a.subject,
        asset_id: a.asset_id,
        chain_id: a.chain_id,
        contract: show_address(a.chain_id, a.contract.as_slice()),
        stage: stage.to_string(),
        total: meta.amount(a.total),
        fee: meta.amount(fee),
        net: meta.amount(a.total.saturating_sub(fee)),
        nonce: a.nonce.to_string(),
        deadline: a.deadline,
        payload: a.payload.to_string(),
        proposer: a.proposer.to_checksum(None),
        proposed_at: a.proposed_at.clone(),
        approved_at: a.approved_at.clone(),
        decided_by: a.decided_by.map(|w| w.to_checksum(None)),
        decided_at: a.decided_at.clone(),
        decision_reason: a.decision_reason.clone(),
        signatures: a
            .signatures
            .iter()
            .map(|s| StaffSignatureView {
                wallet: s.wallet.to_checksum(None),
                action: s.action.to_string(),
                signed_at: s.signed_at.clone(),
            })
            .collect(),
        approvals_required,
        missing,
        missing_proposer,
        missing_approvals,
        approvers,
        entries,
        custody,
        network_fee,
        chain_note,
        typed_data: typed,
    })
}

/// A kind of outflow in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorisationKind {
    /// A payout batch (staff propose and approve it).
    PayoutBatch,
    /// A treasury transfer of company funds (staff propose and approve it).
    TreasuryTransfer,
    /// The refund of a quarantined payment (staff propose and approve it).
    Refund,
    /// A forfeit of a member's held rewards (staff propose and approve it; it moves nothing out of custody).
    Forfeit,
    /// A solvency epoch's liability root: the system's, approved when the solvency worker records it.
    SolvencyCommitment,
}

impl From<AuthorisationKind> for OutflowKind {
    fn from(kind: AuthorisationKind) -> Self {
        match kind {
            AuthorisationKind::PayoutBatch => OutflowKind::PayoutBatch,
            AuthorisationKind::TreasuryTransfer => OutflowKind::TreasuryTransfer,
            AuthorisationKind::Refund => OutflowKind::Refund,
            AuthorisationKind::Forfeit => OutflowKind::Forfeit,
            AuthorisationKind::SolvencyCommitment => OutflowKind::SolvencyCommitment,
        }
    }
}

/// The list's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this kind; default the kinds staff propose and approve (`payout_batch`, `treasury_transfer`, `refund`):
    /// solvency commitments, the system's, are listed with `kind=solvency_commitment` only.
    #[param(inline)]
    pub kind: Option<AuthorisationKind>,
    /// Only those still open (`proposed`, `approved`); default every one.
    #[serde(default)]
    pub open: bool,
    /// Only the one of this outflow (with `kind`: a payout batch's id, a treasury transfer's): the console's batch
    /// page reads its proposal's stage with it.
    pub subject: Option<i64>,
    /// Only those this staff wallet (0x) proposed, approved or decided.
    #[serde(default, deserialize_with = "crate::http::bounded::optional_address")]
    #[param(max_length = 44)]
    pub actor: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// A page of authorisations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorisationPage {
    /// Newest first.
    pub items: Vec<AuthorisationView>,
    /// The cursor of the next page; null on the last.
    pub next_cursor: Option<i64>,
}

/// The queue: outflows proposed, approved and decided, newest first, each with what the approver needs to decide;
/// the staff-proposed kinds unless `kind` names one (`solvency_commitment` lists the system's commitments).
#[utoipa::path(get, path = "/v1/admin/authorisations", tag = "authorisations", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = AuthorisationPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<AuthorisationPage>, ApiError> {
    let limit = i64::from(q.limit.unwrap_or(20));
    if !(1..=MAX_PAGE.into()).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", format!("limit must be 1..={MAX_PAGE}")));
    }
    let kinds = match q.kind {
        Some(kind) => vec![kind.into()],
        None => OutflowKind::STAFF.to_vec(),
    };
    if q.subject.is_some() && q.kind.is_none() {
        return Err(ApiError::bad_request("invalid_query", "subject names an outflow of one kind: give kind too"));
    }
    let wallet = match q.actor.as_deref() {
        Some(actor) => Some(
            actor
                .parse::<alloy::primitives::Address>()
                .map_err(|_| ApiError::bad_request("invalid_query", format!("actor: not a 0x wallet: {actor:?}")))?,
        ),
        None => None,
    };
    let filter = auth::ListFilter { open: q.open, subject: q.subject, wallet };
    let mut rows = auth::list(&ctx.db, &kinds, &filter, q.cursor, limit + 1).await.map_err(refusal)?;
    let next_cursor = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map_or(0, |a| a.id)
    });
    let mut lookups = Lookups::default();
    let mut items = Vec::with_capacity(rows.len());
    for a in rows {
        items.push(view(&ctx, a, &mut lookups).await?);
    }
    Ok(Json(AuthorisationPage { items, next_cursor }))
}

/// One authorisation.
#[utoipa::path(get, path = "/v1/admin/authorisations/{id}", tag = "authorisations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AuthorisationView), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<AuthorisationView>, ApiError> {
    let a = auth::load(&ctx.db, id).await.map_err(refusal)?;
    Ok(Json(view(&ctx, a, &mut Lookups::default()).await?))
}

/// What a proposal names: a built payout batch, or a new treasury transfer or refund (stored `proposed` with it).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProposeRequest {
    /// A payout batch built by `POST /v1/admin/payouts/batches`.
    PayoutBatch {
        /// The batch's id.
        subject: i64,
    },
    /// A transfer of company funds (as `POST /v1/admin/treasury/transfers` asks for one).
    TreasuryTransfer {
        /// The asset whose company share it takes.
        asset_id: i32,
        /// Recipient: 0x or TRON base58 (on the signer's treasury allowlist).
        #[serde(deserialize_with = "bounded::address")]
        to: String,
        /// Base units, decimal string, > 0.
        #[serde(deserialize_with = "bounded::amount")]
        amount: String,
    },
    /// The refund of a quarantined payment to its payer (as `POST /v1/admin/quarantine/…/refund` asks for one).
    Refund {
        /// The quarantined event's chain.
        chain_id: u64,
        /// Its transaction, 0x + 64 hex.
        #[serde(deserialize_with = "bounded::hash")]
        tx_hash: String,
        /// Its log index.
        log_index: u64,
    },
    /// A forfeit of every held reward's rest of a member (PLAN.md §5), fixed now (the rewards and their sum), approvable
    /// until the chain's time plus the chain's `approval_window_secs`, applied once approved; a liability root then
    /// falls by it, which the signer allows once it checked its staff signatures (backend/SOLVENCY.md §1).
    Forfeit {
        /// The asset.
        asset_id: i32,
        /// The member: 0x or TRON base58.
        #[serde(deserialize_with = "bounded::address")]
        wallet: String,
        /// Why (1..=500 characters), for the approver, the audit log and the member.
        #[serde(deserialize_with = "bounded::reason")]
        reason: String,
    },
    /// Never accepted: a solvency commitment is the system's (the solvency worker records it approved when it fixes
    /// the epoch's nonce); 409 `system_authorisation`.
    SolvencyCommitment {
        /// The epoch's row.
        subject: i64,
    },
}

/// Proposes an outflow for approval and answers with the typed data the proposer's wallet signs next
/// (`POST …/{id}/signatures`). A payout batch gets its nonce and deadline fixed (the deadline the chain's time plus the
/// chain's `approval_window_secs`; proposing it again answers the same authorisation); a treasury transfer or refund is
/// checked as one signed at once would be (available share, floor, exit, a recipient the signer sends company funds
/// to: 422 `recipient_not_allowed`) and stored `proposed`, reserving its amount.
/// A solvency commitment is the system's: 409 `system_authorisation`.
#[utoipa::path(post, path = "/v1/admin/authorisations", tag = "authorisations", security(("bearer" = [])),
    request_body = ProposeRequest,
    responses((status = 200, body = AuthorisationView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn propose(
    State(ctx): State<ApiContext>,
    Staff(finance, _): Staff<need::Finance>,
    Json(req): Json<ProposeRequest>,
) -> Result<Json<AuthorisationView>, ApiError> {
    use crate::outflows::treasury::{self, Mode};
    let outflows = ctx.outflows();
    let stored = |row: ledger::treasury::TreasuryTransferRow| {
        row.authorisation_id
            .ok_or_else(|| ApiError::Internal(eyre::eyre!("proposed transfer {} has no authorisation", row.id)))
    };
    let a = match req {
        ProposeRequest::PayoutBatch { subject } => {
            let proposal = crate::outflows::payout_batch::proposal(&outflows, subject).await?;
            auth::propose(&ctx.db, &proposal, finance.wallet).await.map_err(refusal)?
        }
        ProposeRequest::TreasuryTransfer { asset_id, to, amount } => {
            crate::http::rate_limit::outflow_signing(&ctx, OutflowKind::TreasuryTransfer, finance.wallet).await?;
            let to = parse_address(&to, "to")?;
            let amount = parse_amount(&amount, "amount")?;
            let (row, _) = treasury::transfer(&outflows, finance.wallet, asset_id, to, amount, Mode::Propose).await?;
            auth::load(&ctx.db, stored(row)?).await.map_err(refusal)?
        }
        ProposeRequest::Refund { chain_id, tx_hash, log_index } => {
            crate::http::rate_limit::outflow_signing(&ctx, OutflowKind::Refund, finance.wallet).await?;
            let event = crate::http::treasury::refund_key(chain_id, &tx_hash, log_index)?;
            let (row, _) = treasury::refund(&outflows, finance.wallet, event, Mode::Propose).await?;
            auth::load(&ctx.db, stored(row)?).await.map_err(refusal)?
        }
        ProposeRequest::Forfeit { asset_id, wallet, reason } => {
            let member = parse_address(&wallet, "wallet")?;
            crate::outflows::forfeit::propose(&outflows, finance.wallet, asset_id, member, &reason).await?
        }
        ProposeRequest::SolvencyCommitment { subject } => return Err(system_refusal(&ctx, subject).await),
    };
    Ok(Json(view(&ctx, a, &mut Lookups::default()).await?))
}

/// Signs an authorisation's outflow through the signer, carrying the stored staff signatures (the signer checks them
/// against its own list and refuses with 409 `approvals_missing`, audited, when they do not suffice): a payout batch as
/// `POST /v1/admin/payouts/batches/{id}/sign`, a treasury transfer or refund as `POST
/// /v1/admin/treasury/transfers/{id}/sign`. Answers the authorisation, now `signed`; the outflow's own route has the
/// transaction to send. Signing again answers the same. A solvency commitment is signed by the solvency worker alone:
/// 409 `system_authorisation`.
#[utoipa::path(post, path = "/v1/admin/authorisations/{id}/sign", tag = "authorisations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AuthorisationView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn sign(
    State(ctx): State<ApiContext>,
    Staff(finance, _): Staff<need::Finance>,
    Path(id): Path<i64>,
) -> Result<Json<AuthorisationView>, ApiError> {
    let a = auth::load(&ctx.db, id).await.map_err(refusal)?;
    if a.status.is_closed() {
        return Err(refusal(AuthorisationError::Closed { id, kind: a.kind, subject: a.subject, status: a.status }));
    }
    crate::http::rate_limit::outflow_signing(&ctx, a.kind, finance.wallet).await?;
    crate::outflows::of(a.kind).sign(&ctx.outflows(), finance.wallet, &a).await?;
    let a = auth::load(&ctx.db, id).await.map_err(refusal)?;
    Ok(Json(view(&ctx, a, &mut Lookups::default()).await?))
}

/// A staff wallet's signature of an authorisation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    /// `propose` (the proposer's, once) or `approve` (an approver's, never the proposer's).
    pub action: SignatureAction,
    /// The wallet's signature of `typed_data[action]`, 65 bytes 0x hex.
    #[serde(deserialize_with = "bounded::signature")]
    pub signature: String,
}

/// What a signature says.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureAction {
    /// The proposer's.
    Propose,
    /// An approver's.
    Approve,
}

/// Adds the signed-in wallet's signature: recovered here against the authorisation's typed data (422
/// `invalid_signature` when it is not this wallet's over it), refused (403) from the proposer for `approve` and from
/// anyone else for `propose`, 409 once closed or past its deadline, or for a solvency commitment
/// (`system_authorisation`: no staff signs it off). Once the proposer's and enough approvers' are in, the
/// authorisation is `approved` and the batch can be signed.
#[utoipa::path(post, path = "/v1/admin/authorisations/{id}/signatures", tag = "authorisations",
    security(("bearer" = [])), params(("id" = i64, Path)), request_body = SignatureRequest,
    responses((status = 200, body = AuthorisationView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_signature(
    State(ctx): State<ApiContext>,
    Staff(staff, _): Staff<need::SignsOff>,
    Path(id): Path<i64>,
    Json(req): Json<SignatureRequest>,
) -> Result<Json<AuthorisationView>, ApiError> {
    let signature = alloy::hex::decode(req.signature.trim())
        .ok()
        .filter(|s| s.len() == 65)
        .ok_or_else(|| ApiError::unprocessable("invalid_signature", "a signature is 65 bytes, 0x hex"))?;
    let a = auth::load(&ctx.db, id).await.map_err(refusal)?;
    if a.is_system() {
        return Err(refusal(AuthorisationError::System(id, a.kind)));
    }
    let outflows = ctx.outflows();
    let mut lookups = Lookups::default();
    lookups.policies.insert(a.asset_id, signer_approvals(&outflows, &a).await);
    let policy = lookups.policies[&a.asset_id].as_ref();
    let (needed, _) = required(&a, policy);
    let now = ctx.chains.chain(a.chain_id)?.now(&ctx.clock).await;
    let action = match req.action {
        SignatureAction::Propose => SignAction::Propose,
        SignatureAction::Approve => SignAction::Approve,
    };
    let mut a =
        auth::sign(&ctx.db, id, staff.wallet, action, &signature, needed as usize, now).await.map_err(refusal)?;
    // What approval does at once for its kind (a forfeit is applied once the signer's own list counts it).
    if a.status == auth::AuthorisationStatus::Approved {
        crate::outflows::of(a.kind).approved(&outflows, staff.wallet, &a, policy, needed).await?;
        a = auth::load(&ctx.db, id).await.map_err(refusal)?;
    }
    Ok(Json(view(&ctx, a, &mut lookups).await?))
}

/// A rejection.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, for the proposer and the audit log (1..=500 characters).
    #[serde(deserialize_with = "bounded::reason")]
    pub reason: String,
}

/// Rejects an open authorisation (an approver other than the proposer), with a reason. Its batch is never signed
/// through it; cancel the batch once its deadline has passed on the chain to give its rewards back to pending. A
/// solvency commitment is the system's: 409 `system_authorisation`.
#[utoipa::path(post, path = "/v1/admin/authorisations/{id}/reject", tag = "authorisations",
    security(("bearer" = [])), params(("id" = i64, Path)), request_body = RejectRequest,
    responses((status = 200, body = AuthorisationView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject(
    State(ctx): State<ApiContext>,
    Staff(approver, _): Staff<need::Approver>,
    Path(id): Path<i64>,
    Json(req): Json<RejectRequest>,
) -> Result<Json<AuthorisationView>, ApiError> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::unprocessable("invalid_body", "a rejection needs a reason"));
    }
    let a = auth::reject(&ctx.db, id, approver.wallet, reason).await.map_err(refusal)?;
    Ok(Json(view(&ctx, a, &mut Lookups::default()).await?))
}

/// Proposing solvency commitment `subject` refused: it is the system's (naming its authorisation when recorded).
async fn system_refusal(ctx: &ApiContext, subject: i64) -> ApiError {
    match auth::of_subject(&ctx.db, OutflowKind::SolvencyCommitment, subject).await {
        Ok(Some(a)) => refusal(AuthorisationError::System(a.id, a.kind)),
        Ok(None) => ApiError::Conflict {
            code: "system_authorisation",
            message: format!(
                "a solvency commitment is the system's: the solvency worker records epoch {subject}'s approval when \
                 it fixes its nonce; no staff wallet proposes one"
            ),
        },
        Err(e) => refusal(e),
    }
}

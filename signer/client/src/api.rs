//! The HTTP contract shared by the service and `client`: routes, response and error bodies.

use alloy::primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

use crate::intent::{Addr, Amount, Kind};

/// Signs a `Registration` payload from a [`RegisterIntent`](crate::intent::RegisterIntent).
pub const REGISTER_PATH: &str = "/v1/sign/register";
/// Signs a `Retopup` payload from a [`RetopupIntent`](crate::intent::RetopupIntent).
pub const RETOPUP_PATH: &str = "/v1/sign/retopup";
/// Signs a `PayoutBatch` payload from a [`PayoutBatchIntent`](crate::intent::PayoutBatchIntent).
pub const PAYOUT_BATCH_PATH: &str = "/v1/sign/payout-batch";
/// Signs a `TreasuryTransfer` payload (company funds out of custody).
pub const TREASURY_TRANSFER_PATH: &str = "/v1/sign/treasury-transfer";
/// Signs a `LiabilityRoot` payload (the proof of solvency's commitment) from a
/// [`LiabilityRootIntent`](crate::intent::LiabilityRootIntent).
pub const LIABILITY_ROOT_PATH: &str = "/v1/sign/liability-root";
/// Signs a `Sale` payload (a buyer's payment for an order priced from a signed catalogue version) from a
/// [`SaleIntent`](crate::intent::SaleIntent).
pub const SALE_PATH: &str = "/v1/sign/sale";
/// Signs several intents, of any kinds, in one authenticated request ([`ManyRequest`] → [`ManyResponse`]): each is
/// decided exactly as on its own route, and answered with the status and body that route would give.
pub const MANY_PATH: &str = "/v1/sign/many";
/// Most intents in one [`MANY_PATH`] request.
pub const MAX_MANY: usize = 64;
/// Largest request body the signer reads: twice the largest a [`crate::client::SignerClient`] sends — a
/// [`MANY_PATH`] request of 256 KiB of intents and its wrappers (about 260 KB), or a lone payout batch, whose
/// worst case the signer checks against this limit at start
/// ([`crate::intent::PayoutBatchIntent::max_json_bytes`]: 500 entries and 16 staff signatures are at most about 79 KB).
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// GET, authenticated (a caller permitted payout batches or treasury transfers): the policy of one asset of one
/// contract and what its rolling window has used ([`AssetPolicy`]); query `chain_id`, `contract`, `token`.
pub const POLICY_PATH: &str = "/v1/policy";
/// GET, unauthenticated: the signer's address ([`SignerInfo`]), to compare with the contract's `signer`.
pub const SIGNER_PATH: &str = "/v1/signer";
/// GET, authenticated (any caller): who the signer takes the caller for and the payload kinds it may ask for
/// ([`CallerInfo`]), so that a service's preflight finds a kind it needs refused before the first request is.
pub const CALLER_PATH: &str = "/v1/caller";
/// GET, unauthenticated: 200 while the double-sign store answers.
pub const HEALTH_PATH: &str = "/health";
/// GET, unauthenticated: Prometheus text metrics.
pub const METRICS_PATH: &str = "/metrics";

/// A signature and everything it commits to; `payload` is the intent as signed (nonce, deadline, total filled in).
/// Clients read the payload as a `Value`; the service writes the JSON it serialised once (`Box<RawValue>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignResponse<P = serde_json::Value> {
    /// Which payload kind was signed (the route it came in on).
    pub kind: Kind,
    /// Chain id as the caller gave it (the domain commits to it masked to 32 bits).
    pub chain_id: u64,
    /// The Settlement contract whose domain the signature is under.
    pub contract: Addr,
    /// Address that signed; the contract accepts it only if it is its `signer`.
    pub signer: Addr,
    /// Contract nonce the payload spends: the caller's, or one the signer allocated from its counter.
    pub nonce: Amount,
    /// Unix seconds after which the contract refuses the payload.
    pub deadline: u64,
    /// EIP-712 digest that was signed; the same digest for the same nonce means the same payload.
    pub digest: B256,
    /// 65 bytes r ‖ s ‖ v with v ∈ {27, 28}, as the contract's ECDSA.recover expects.
    pub signature: Bytes,
    /// The intent as signed, in its request JSON shape, to submit on-chain.
    pub payload: P,
}

impl<P> SignResponse<P> {
    /// Whether this answer is for exactly the payload asked for: `digest` (the caller's own EIP-712 digest of it)
    /// under `contract` on `chain_id`, at `nonce` and `deadline`. A caller stores a signature only after this check.
    pub fn is_for(&self, chain_id: u64, contract: Address, digest: B256, nonce: U256, deadline: u64) -> bool {
        self.digest == digest
            && self.chain_id == chain_id
            && self.contract.0 == contract
            && self.nonce.0 == nonce
            && self.deadline == deadline
    }
}

/// Body of [`MANY_PATH`]: up to [`MAX_MANY`] intents, each with its kind. The service reads `intent` as the raw JSON
/// of its kind's route (`Box<RawValue>`), so an intent that route would refuse is refused alone, as it would be there.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManyRequest<I = Box<serde_json::value::RawValue>> {
    /// The intents, answered in this order.
    pub requests: Vec<ManyItem<I>>,
}

/// One intent of a [`ManyRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManyItem<I> {
    /// The route it would have come in on.
    pub kind: Kind,
    /// The body that route takes.
    pub intent: I,
}

/// Answer of [`MANY_PATH`] (status 200 whenever the request as a whole was authenticated and well formed): one
/// result per intent, in the request's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManyResponse<P = serde_json::Value> {
    /// One per intent.
    pub results: Vec<ManyResult<P>>,
}

/// What the intent's own route would have answered: its status, and either the signature or the refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManyResult<P = serde_json::Value> {
    /// The HTTP status the intent's own route would have answered.
    pub status: u16,
    /// The signature, when `status` is 200.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<SignResponse<P>>,
    /// The refusal, otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Every refusal: a stable machine-readable code (`policy.per_payload_cap`, `nonce_conflict`, `auth.replayed`…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code callers match on; never reworded.
    pub code: String,
    /// Human-readable explanation, for logs only.
    pub message: String,
}

/// The body of every non-2xx answer: `{ "error": { "code", "message" } }`, the same envelope as the backend API's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// The refusal itself.
    pub error: ErrorBody,
}

/// Answer of [`SIGNER_PATH`]: which key the service signs with, and the node of its own it reads each chain from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    /// Address of the key the signer signs with now; must equal the contract's `signer`. During a rotation of the
    /// contract's signer (two keys held), the key every contract's `signer()` names now.
    pub address: Addr,
    /// Every key the signer holds, the current one (`[key]`) first: two during a rotation (`[key.next]`).
    #[serde(default)]
    pub keys: Vec<Addr>,
    /// The signer's own node of each chain that has one (`[policy.chains.node]`, by chain id): what the preflight
    /// checks of it — the chain it answers, TLS. Never its URL, which may carry a provider's key.
    #[serde(default)]
    pub nodes: Vec<NodeInfo>,
    /// Whether every outflow needs staff approvals (`[policy.approvals]`: a proposer's and an approver's wallet
    /// signatures): the preflight fails a mainnet whose signer says no (issue 65). Absent: an older signer, taken as
    /// no.
    #[serde(default)]
    pub approvals: bool,
}

/// Answer of [`CALLER_PATH`]: the authenticated caller and what it may ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerInfo {
    /// The caller's id, as the signer's `[auth]` names it.
    pub caller: String,
    /// The payload kinds it may ask for (its `kinds`; every kind when the configuration lists none), in
    /// [`crate::intent::Kind::ALL`]'s order.
    pub kinds: Vec<crate::intent::Kind>,
}

/// The signer's own node of one chain, as [`SIGNER_PATH`] shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The chain the policy names it for.
    pub chain_id: u64,
    /// Whether it is reached over TLS (`https://`).
    pub tls: bool,
    /// Whether it is on the signer's own machine (loopback), where plaintext crosses no network.
    pub loopback: bool,
    /// The chain id it answers (`eth_chainId`), when it answered.
    pub answers_chain_id: Option<u64>,
    /// How far below its head the signer counts a block confirmed (its `confirmations`): a liability root as of a
    /// later block is refused. Absent from a signer that predates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmations: Option<u64>,
    /// Why it did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Answer of [`POLICY_PATH`]: the limits the signer applies to one asset of one contract, in base units, and the
/// outflows its rolling window holds — what a payout builder needs to build only batches the signer will sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetPolicy {
    /// Chain id as asked.
    pub chain_id: u64,
    /// The Settlement contract.
    pub contract: Addr,
    /// The asset's token (0x000…0 for the native coin).
    pub token: Addr,
    /// Largest amount of one payment or treasury transfer.
    pub per_payload_cap: Amount,
    /// Largest payout entry: a user owed more must be paid in parts across batches.
    pub per_entry_cap: Amount,
    /// Largest total of one payout batch.
    pub per_batch_cap: Amount,
    /// Most entries in one payout batch.
    pub max_batch_entries: u64,
    /// Largest sum of outflows (payout batches, treasury transfers) signed in any rolling window.
    pub daily_outflow_cap: Amount,
    /// Length of the rolling window, seconds.
    pub daily_window_secs: u64,
    /// Outflows of this asset signed in the window ending at `as_of`.
    pub daily_outflow_used: Amount,
    /// When the window's outflows leave it, earliest first (summed per second): room returns then.
    pub releases: Vec<OutflowRelease>,
    /// Payout recipients the signer refuses whatever the amount (the contract itself).
    pub refused_payout_recipients: Vec<Addr>,
    /// Where treasury transfers may send company funds.
    pub treasury_recipients: Vec<Addr>,
    /// The staff approvals this asset's outflows need (`[policy.approvals]`); `None`: none (development).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<AssetApprovals>,
    /// Unix seconds the answer describes.
    pub as_of: u64,
}

/// Who signs off an asset's outflows, and how many approvals each needs besides the proposer's: what a console shows
/// an approver as still missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetApprovals {
    /// Wallets that may propose, sorted.
    pub proposers: Vec<Addr>,
    /// Wallets whose approvals count, sorted.
    pub approvers: Vec<Addr>,
    /// Approvals a payout batch needs, up to the first tier.
    pub payout_batch: u64,
    /// This asset's tiers, by `above` ascending: a batch whose total is above `above` needs `approvals`.
    pub payout_tiers: Vec<ApprovalTierView>,
    /// Approvals a treasury transfer needs.
    pub treasury_transfer: u64,
    /// Approvals a refund needs.
    pub refund: u64,
    /// Approvals a forfeit needs before a liability root may fall by it (1 from a signer older than forfeits).
    #[serde(default = "one")]
    pub forfeit: u64,
}

fn one() -> u64 {
    1
}

/// One tier of [`AssetApprovals::payout_tiers`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalTierView {
    /// The total above which it applies, base units.
    pub above: Amount,
    /// Approvals needed above it.
    pub approvals: u64,
}

/// Outflows that leave the rolling window at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutflowRelease {
    /// Unix seconds when they stop counting against the cap.
    pub at: u64,
    /// Their sum.
    pub amount: Amount,
}

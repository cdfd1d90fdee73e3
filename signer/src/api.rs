//! The HTTP contract shared by the service and `client`: routes, response and error bodies.

use alloy::primitives::{B256, Bytes};
use serde::{Deserialize, Serialize};

use crate::intent::{Addr, Amount, Kind};

pub const REGISTER_PATH: &str = "/v1/sign/register";
pub const RETOPUP_PATH: &str = "/v1/sign/retopup";
pub const PAYOUT_BATCH_PATH: &str = "/v1/sign/payout-batch";
pub const TREASURY_TRANSFER_PATH: &str = "/v1/sign/treasury-transfer";
pub const SIGNER_PATH: &str = "/v1/signer";
pub const HEALTH_PATH: &str = "/health";
pub const METRICS_PATH: &str = "/metrics";

/// A signature and everything it commits to; `payload` is the intent as signed (nonce, deadline, total filled in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignResponse {
    pub kind: Kind,
    pub chain_id: u64,
    pub contract: Addr,
    pub signer: Addr,
    pub nonce: Amount,
    pub deadline: u64,
    pub digest: B256,
    /// 65 bytes r ‖ s ‖ v with v ∈ {27, 28}, as the contract's ECDSA.recover expects.
    pub signature: Bytes,
    pub payload: serde_json::Value,
}

/// Every refusal: a stable machine-readable code (`policy.per_payload_cap`, `nonce_conflict`, `auth.replayed`…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    pub address: Addr,
}

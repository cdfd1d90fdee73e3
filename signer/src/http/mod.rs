//! The HTTP layer: thin handlers over `SigningService`, one module per resource.

mod error;
mod ops;
mod policy;
mod sign;

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    routing::{get, post},
};

pub use error::ApiError;
pub use sign::AuthenticatedRequest;

use crate::{api, auth::Authenticator, metrics::Metrics, signing::SigningService};

/// Shared by every handler: the service, the authenticator and the counters.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Decides, records and signs intents.
    pub service: Arc<SigningService>,
    /// Authenticates requests and refuses replays.
    pub auth: Arc<Authenticator>,
    /// The Prometheus metrics.
    pub metrics: Arc<Metrics>,
}

/// Largest request body read, and only from a caller whose headers authenticated (`api::MAX_BODY_BYTES`).
pub use crate::api::MAX_BODY_BYTES;

/// Every route of the signer's API, over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(api::REGISTER_PATH, post(sign::register))
        .route(api::RETOPUP_PATH, post(sign::retopup))
        .route(api::PAYOUT_BATCH_PATH, post(sign::payout_batch))
        .route(api::TREASURY_TRANSFER_PATH, post(sign::treasury_transfer))
        .route(api::LIABILITY_ROOT_PATH, post(sign::liability_root))
        .route(api::SALE_PATH, post(sign::sale))
        .route(api::MANY_PATH, post(sign::many))
        .route(api::POLICY_PATH, get(policy::policy))
        .route(api::SIGNER_PATH, get(ops::signer))
        .route(api::CALLER_PATH, get(ops::caller))
        .route(api::HEALTH_PATH, get(ops::health))
        .route(api::METRICS_PATH, get(ops::metrics))
        .with_state(state)
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

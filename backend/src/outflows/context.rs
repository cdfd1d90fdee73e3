//! What an outflow's use cases run over — the ledger, the chains, the signer callers, the clock and the metrics, not
//! the API's context — and the reads every kind makes through it: the signer's approvals, the members' exit, an asset.

use std::sync::Arc;

use ledger::authorisations::Authorisation;
use signer_client::SignerClient;
use signer_client::api::AssetApprovals;
use sqlx::PgPool;

use crate::chains::ChainRegistry;
use crate::clock::Clock;
use crate::metrics::ApiMetrics;
use crate::refusal::Refusal;

/// What an outflow's use case runs over.
#[derive(Clone, Debug)]
pub struct OutflowContext {
    /// The ledger.
    pub db: PgPool,
    /// Every configured chain, with its operator key.
    pub chains: Arc<ChainRegistry>,
    /// The main signer caller; `None` when no `[signer]` is configured.
    pub signer: Option<SignerClient>,
    /// The caller for treasury transfers and refunds: `[signer.treasury_caller]`, else the main caller.
    pub treasury_signer: Option<SignerClient>,
    /// The host's clock (which tests move); deadlines follow a chain's clock ([`OutflowContext::chain_now`]).
    pub clock: Clock,
    /// Where failed intents and retried transactions are counted.
    pub metrics: Arc<ApiMetrics>,
}

impl OutflowContext {
    /// The main signer caller; `signer_unavailable` when none is configured.
    pub fn signer(&self) -> Result<&SignerClient, Refusal> {
        configured(&self.signer)
    }

    /// The caller for treasury transfers (`[signer.treasury_caller]`, else the main one).
    pub fn treasury_signer(&self) -> Result<&SignerClient, Refusal> {
        configured(&self.treasury_signer)
    }
}

/// A signer caller, if one is configured; `signer_unavailable` otherwise.
pub fn configured(client: &Option<SignerClient>) -> Result<&SignerClient, Refusal> {
    client.as_ref().ok_or_else(|| Refusal::unavailable("signer_unavailable", "no signer is configured"))
}

/// The signer's approvals for `a`'s asset; `None` when it sets none or cannot be asked now (within 5 s).
pub async fn signer_approvals(cx: &OutflowContext, a: &Authorisation) -> Option<AssetApprovals> {
    let client = cx.signer.as_ref()?;
    let call = client.policy(a.chain_id, a.contract, a.token);
    match tokio::time::timeout(std::time::Duration::from_secs(5), call).await {
        Ok(Ok(policy)) => policy.approvals,
        _ => None,
    }
}

/// `exit_open` once the members' exit of `asset_id` has opened: nothing is paid in or out of it any more but claims
/// and members' exits with their proofs.
pub async fn refuse_if_exit_open(db: &PgPool, asset_id: i32) -> Result<(), Refusal> {
    let openings = ledger::exits::openings(db, asset_id).await?;
    let Some(opened) = openings.first() else { return Ok(()) };
    Err(Refusal::conflict(
        "exit_open",
        format!(
            "the members' exit of this asset opened at block {} on contract {} (no commitment for too long): nothing \
             is paid in or out of it any more but claims and members' exits with their proofs (the exit page, or \
             solvency-verify exit)",
            opened.block,
            abi::tron::show(opened.chain_id, opened.contract)
        ),
    ))
}

/// Asset `asset_id`; `unknown_asset` when there is none.
pub async fn asset(db: &PgPool, asset_id: i32) -> Result<ledger::AssetInfo, Refusal> {
    ledger::asset_info(db, asset_id)
        .await?
        .ok_or_else(|| Refusal::unprocessable("unknown_asset", format!("no asset {asset_id}")))
}

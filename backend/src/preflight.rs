//! The API's preflight ([`preflight`]): each chain of its chain spec checked against what the API will rely on —
//! the signer service's key as the contract's signer and its own node of each chain (`GET /v1/signer`), and each
//! chain's payout operator with its role and enough of the native coin for the next batches at the fee cap. Run at
//! start ([`at_start`]) and by the `preflight` command (`src/bin/preflight.rs`).
//!
//! The API refuses to start on a proven misconfiguration (a [`Level::Fail`]): it is the service that moves money —
//! it sends payout batches and asks for signatures —, so a contract trusting another signer, an operator key that is
//! public, or a node of another network is better a refused start than a payment sent wrong. The listener and the
//! reconciler, which only watch, start whatever the checks find and page it.

use alloy::primitives::{Address, U256};
use preflight::{Expectations, Finding, Level};

use crate::{config::Settings, http::chains::ChainRegistry};

/// Batches the operator must be able to pay for at the fee cap.
pub const BATCHES_AHEAD: u64 = 3;

/// Gas an EVM payout batch may use at most, for the operator's budget (a batch of the largest size pushes each
/// entry with its push gas, about 30,000 more per entry).
pub const EVM_BATCH_GAS: u64 = 3_000_000;

/// Every finding of the API's chains: the signer's address asked from the signer service (a finding of its own when
/// it cannot be asked), each chain's operator from the registry.
pub async fn check(
    settings: &Settings,
    chains: &ChainRegistry,
    signer: Option<&signer_client::SignerClient>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let info = match signer {
        None => None,
        Some(client) => match tokio::time::timeout(std::time::Duration::from_secs(10), client.signer_info()).await {
            Ok(Ok(info)) => Some(info),
            Ok(Err(e)) => {
                findings.push(unasked(settings, format!("the signer service could not be asked its key: {e}")));
                None
            }
            Err(_) => {
                findings.push(unasked(settings, "the signer service did not say its key in time".into()));
                None
            }
        },
    };
    let signer_address = info.as_ref().map(|i| i.address.0);
    let specs: Vec<_> = settings.chains.iter().map(|c| c.spec.clone()).collect();
    let expect =
        |chain_id: u64| Expectations { signer: signer_address, operator: operator_budget(settings, chains, chain_id) };
    findings.extend(preflight::check_all_with(&specs, expect, info.as_ref()).await);
    findings
}

/// The operator of `chain_id` and the native coin it needs for [`BATCHES_AHEAD`] batches at the fee cap.
fn operator_budget(settings: &Settings, chains: &ChainRegistry, chain_id: u64) -> Option<(Address, U256)> {
    let chain = chains.get(chain_id)?;
    let operator = chain.operator()?;
    let tuning = &settings.chains.iter().find(|c| c.spec.chain_id == chain_id)?.tuning;
    let per_batch = match abi::chain::Family::of(chain_id) {
        abi::chain::Family::Evm => U256::from(EVM_BATCH_GAS) * U256::from(tuning.payout_max_fee_per_gas_wei),
        abi::chain::Family::Tron => U256::from(tuning.payout_fee_limit_cap_sun),
    };
    Some((operator, per_batch * U256::from(BATCHES_AHEAD)))
}

fn unasked(settings: &Settings, message: String) -> Finding {
    Finding::new(settings.chains.first().map_or(0, |c| c.spec.chain_id), "signer", Level::Unverified, message)
}

/// The API's preflight at start: refuses to start on a proven misconfiguration, warns of the rest.
pub async fn at_start(
    settings: &Settings,
    chains: &ChainRegistry,
    signer: Option<&signer_client::SignerClient>,
) -> eyre::Result<()> {
    let findings = check(settings, chains, signer).await;
    preflight::refuse_failures("api", settings.chains.len(), &findings)
}

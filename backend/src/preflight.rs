//! The API's preflight ([`preflight`]): each chain of its chain spec checked against what the API will rely on —
//! the signer service's key as the contract's signer and its own node of each chain (`GET /v1/signer`), every
//! payload kind the API will ask for permitted to the caller that asks ([`kinds_needed`], `GET /v1/caller`), and each
//! chain's payout operator with its role and enough of the native coin for the next batches at the fee cap. Run at
//! start ([`at_start`]) and by the `preflight` command (`src/bin/preflight.rs`).
//!
//! The API refuses to start on a proven misconfiguration (a [`Level::Fail`]): it is the service that moves money —
//! it sends payout batches and asks for signatures —, so a contract trusting another signer, an operator key that is
//! public, or a node of another network is better a refused start than a payment sent wrong. The listener and the
//! reconciler, which only watch, start whatever the checks find and page it.

use alloy::primitives::{Address, U256};
use preflight::{Expectations, Finding, Level};
use signer_client::intent::Kind;

use crate::{chains::ChainRegistry, config::Settings};

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
    if signer.is_some() {
        findings.extend(signer_kinds(settings).await);
    }
    let signer_address = info.as_ref().map(|i| i.address.0);
    let specs: Vec<_> = settings.chains.iter().map(|c| c.spec.clone()).collect();
    let expect =
        |chain_id: u64| Expectations { signer: signer_address, operator: operator_budget(settings, chains, chain_id) };
    findings.extend(preflight::check_all_with(&specs, expect, info.as_ref()).await);
    findings
}

/// One signer caller of the API and the payload kinds it will ask for, each with what it is for.
pub struct CallerNeeds<'a> {
    /// The caller's id as the API is configured with it (`[signer]`, or `[signer.treasury_caller]`).
    pub caller_id: &'a str,
    /// Its secret.
    pub secret: &'a secrecy::SecretString,
    /// Whether this is the main caller (`[signer]` itself).
    pub main: bool,
    /// The kinds, each with what it is for.
    pub kinds: Vec<(Kind, &'static str)>,
}

/// The payload kinds the API asks the signer for with its main caller (`[signer]`) and, when configured, its
/// treasury caller (`[signer.treasury_caller]`).
pub fn kinds_needed(settings: &Settings) -> Vec<CallerNeeds<'_>> {
    let Some(signer) = &settings.signer else { return Vec::new() };
    let transfers = (Kind::TreasuryTransfer, "treasury transfers and refunds");
    let mut main = vec![
        (Kind::Register, "members' registrations"),
        (Kind::Retopup, "members' retopups"),
        (Kind::PayoutBatch, "payout batches"),
    ];
    if settings.solvency.is_some() {
        main.push((
            Kind::LiabilityRoot,
            "the proof of solvency's commitments: without them the floor's age check fails payouts and the members' \
             exit opens",
        ));
    }
    let treasury = signer.treasury_caller.as_ref().map(|t| CallerNeeds {
        caller_id: &t.caller_id,
        secret: &t.caller_secret,
        main: false,
        kinds: vec![transfers],
    });
    if treasury.is_none() {
        main.push(transfers);
    }
    let main = CallerNeeds { caller_id: &signer.caller_id, secret: &signer.caller_secret, main: true, kinds: main };
    std::iter::once(main).chain(treasury).collect()
}

/// `signer_kinds`: each of the API's signer callers is known to the signer service with its secret and may ask for
/// every kind the API will ask it for ([`kinds_needed`]; the signer's `GET /v1/caller`); a main caller that may
/// also move company funds while a treasury caller is configured is a warning (its secret leaked would move them).
async fn signer_kinds(settings: &Settings) -> Vec<Finding> {
    let Some(signer) = &settings.signer else { return Vec::new() };
    let chain_id = settings.chains.first().map_or(0, |c| c.spec.chain_id);
    let mut findings = Vec::new();
    for needs in kinds_needed(settings) {
        let caller = needs.caller_id;
        let client = signer_client::SignerClient::new(signer.url.clone(), caller, needs.secret.clone());
        let finding = |level, message: String| Finding::new(chain_id, "signer_kinds", level, message).about(caller);
        let info = match tokio::time::timeout(std::time::Duration::from_secs(10), client.caller_info()).await {
            Ok(Ok(info)) => info,
            Ok(Err(signer_client::ClientError::Refused { status: 401, .. })) => {
                findings.push(finding(
                    Level::Fail,
                    format!(
                        "the signer service does not know caller {caller:?} with the configured secret: every request \
                         it makes would be refused; give the signer's [auth] this caller, or the API its secret"
                    ),
                ));
                continue;
            }
            Ok(Err(e)) => {
                findings.push(finding(
                    Level::Unverified,
                    format!("the signer service could not say which kinds caller {caller:?} may ask for: {e}"),
                ));
                continue;
            }
            Err(_) => {
                findings.push(finding(
                    Level::Unverified,
                    format!("the signer service did not say in time which kinds caller {caller:?} may ask for"),
                ));
                continue;
            }
        };
        let refused: Vec<String> = (needs.kinds.iter())
            .filter(|(kind, _)| !info.kinds.contains(kind))
            .map(|(kind, what)| format!("{} ({what})", kind.as_str()))
            .collect();
        if !refused.is_empty() {
            findings.push(finding(
                Level::Fail,
                format!(
                    "the signer service refuses caller {caller:?} {}: add {} to its `kinds` in the signer's [auth] \
                     (signer/signer.production.example.toml)",
                    refused.join(", "),
                    if refused.len() == 1 { "it" } else { "them" }
                ),
            ));
        }
        let moves_funds = needs.main
            && signer.treasury_caller.as_ref().is_some_and(|t| t.caller_id != caller)
            && info.kinds.contains(&Kind::TreasuryTransfer);
        if moves_funds {
            findings.push(finding(
                Level::Warn,
                format!(
                    "caller {caller:?} may ask for treasury transfers although [signer.treasury_caller] makes them: \
                     its secret leaked would move company funds; leave treasury_transfer out of its `kinds`"
                ),
            ));
        }
    }
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

//! The chains the API serves, built once at start from the chain spec and the API's `[[chains]]` tuning: each
//! chain's Settlement contract, its RPC access with the operator key (when configured), confirmation depth and
//! signature lifetime; and calls to a chain bounded in time with provider failures mapped to `Unavailable` refusals
//! (the API's 503s).

use std::{collections::HashMap, sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use payout_chain::{
    PayoutChain, PayoutSubmitter, SubmitError,
    tron::{TronPayoutChain, TronSettings},
};

use crate::config::ChainSettings;
use crate::refusal::Refusal;

use crate::payouts::sender::CHAIN_TIMEOUT;

/// RPC access to one chain: a provider (with the operator key as its wallet, when one is configured).
#[derive(Clone)]
pub struct ChainAccess {
    /// JSON-RPC provider of `rpc_url`, signing with the operator key when one is configured.
    pub provider: DynProvider,
    /// Address of the operator key (OPERATOR_ROLE); `None`: read-only, batches cannot be sent.
    pub operator: Option<Address>,
}

impl std::fmt::Debug for ChainAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainAccess").field("operator", &self.operator).finish_non_exhaustive()
    }
}

/// The operator key of a chain, if one is configured ([`ChainSettings::operator_key`]: a keystore, or a raw key on a
/// development or test chain).
fn operator_key(chain: &ChainSettings) -> eyre::Result<Option<PrivateKeySigner>> {
    Ok(chain.operator_key()?)
}

impl ChainAccess {
    /// `None` when the chain spec gives the chain no `rpc_url`; an error for an unusable URL. With `key` `None`, read
    /// only (what `referral-asset` reads tokens with).
    pub fn from_settings(chain: &ChainSettings, key: Option<&PrivateKeySigner>) -> eyre::Result<Option<Self>> {
        let Some(url) = &chain.spec.rpc_url else { return Ok(None) };
        let url: reqwest::Url =
            url.parse().map_err(|e| eyre::eyre!("chains: rpc_url of chain {}: {e}", chain.spec.chain_id))?;
        let operator = key.map(|k| k.address());
        // On a TRON chain with an API key, every request carries it.
        let http = chain.spec.http_client(CHAIN_TIMEOUT)?;
        let provider = match key {
            Some(key) => {
                ProviderBuilder::new().wallet(EthereumWallet::from(key.clone())).connect_reqwest(http, url).erased()
            }
            None => ProviderBuilder::new().connect_reqwest(http, url).erased(),
        };
        Ok(Some(Self { provider, operator }))
    }
}

/// A TRON chain's payout family over its gRPC API, one connection for sending (with the operator key, when
/// configured) and reading.
#[derive(Debug, Clone)]
pub struct TronAccess(Arc<TronPayoutChain>);

impl TronAccess {
    /// `None` when the chain spec gives the chain no `[chains.tron]` with a `grpc_url`; an error when one is given
    /// to a chain that is not TRON's.
    fn from_settings(
        chain: &ChainSettings,
        settlement: Address,
        key: Option<&PrivateKeySigner>,
    ) -> eyre::Result<Option<Self>> {
        let Some(tron) = &chain.spec.tron else { return Ok(None) };
        let Some(grpc_url) = &tron.grpc_url else { return Ok(None) };
        let (id, tuning) = (chain.spec.chain_id, &chain.tuning);
        eyre::ensure!(
            chain.spec.family() == abi::chain::Family::Tron,
            "chains: [chains.tron] is set on chain {id}, which is not a TRON chain"
        );
        eyre::ensure!(
            (1..=86_400).contains(&tuning.payout_tx_expiration_secs),
            "chains: payout_tx_expiration_secs of chain {id} must be 1..=86400 (TRON's 24 h limit)"
        );
        let settings = TronSettings {
            grpc_url: grpc_url.clone(),
            solidity_grpc_url: tron.solidity_grpc_url.clone(),
            settlement,
            fee_limit_cap_sun: i64::try_from(tuning.payout_fee_limit_cap_sun)?,
            expiration: Duration::from_secs(tuning.payout_tx_expiration_secs),
            api_key: tron.api_key()?.map(secrecy::SecretString::from),
        };
        let secret = key.map(|k| k.to_bytes());
        let payouts = TronPayoutChain::new(settings, secret.as_ref().map(|s| s.as_slice()))
            .map_err(|e| eyre::eyre!("chains: chain {id}: {e}"))?;
        Ok(Some(Self(Arc::new(payouts))))
    }
}

/// One configured chain.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The chain's id.
    pub chain_id: u64,
    /// The chain's live Settlement contract: payment payloads are signed for it.
    pub settlement: Address,
    /// The contracts `settlement` replaced (`[[chains.previous]]`), oldest first: wound down, their custody paid out
    /// first (contracts/UPGRADES.md).
    pub previous: Vec<Address>,
    /// On a TRON chain with a gRPC API: payouts through each previous contract (the live one's is `tron`).
    pub tron_previous: Vec<(Address, TronAccess)>,
    /// RPC access; `None` when the chain has no `rpc_url`.
    pub access: Option<ChainAccess>,
    /// Blocks on top of a transaction's block before its outcome counts as final.
    pub confirmations: u64,
    /// Lifetime of payout-batch and treasury-transfer signatures.
    pub signature_ttl_secs: u64,
    /// The deadline of an outflow proposed for staff approval is this far past the chain's time at proposal.
    pub approval_window_secs: u64,
    /// On a TRON chain, the `fee_limit` (SUN) suggested to wallets for payments.
    pub fee_limit_sun: u64,
    /// On a TRON chain (the spec's `[chains.tron]`): payouts through TRON's gRPC API.
    pub tron: Option<TronAccess>,
    /// EVM: how payout transactions are priced, and when a stuck one is replaced.
    pub fees: payout_chain::fees::FeePolicy,
    /// EVM: held from reading the operator's account nonce to handing the transaction to the node, so that the
    /// payout sender and the solvency worker of this process never take the same account nonce.
    pub send_lock: Arc<tokio::sync::Mutex<()>>,
    /// The chain's clock as last read: what deadlines are computed from and expiry is judged by.
    pub clock: Arc<ChainClock>,
}

/// How long a reading of a chain's clock is used before the chain is asked again.
const CHAIN_CLOCK_REFRESH_SECS: u64 = 5;
/// Longest wait for a chain's clock.
const CHAIN_CLOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// A chain's clock: the timestamp the chain gives its next block (EVM: the `pending` block's, which a node computes
/// from its own clock — anvil's, moved by `evm_increaseTime`, included; TRON: the latest block's, one every 3 s), kept
/// as an offset from the host's clock and read again every [`CHAIN_CLOCK_REFRESH_SECS`]. Deadlines of every signed
/// intent are the chain's time plus their lifetime, and "this can no longer execute" is decided by it, never by the
/// host's clock, which may drift (or, on a devnet, lag a moved chain by a week).
#[derive(Debug, Default)]
pub struct ChainClock {
    /// Chain time − host time, seconds.
    offset: std::sync::atomic::AtomicI64,
    /// Host time (seconds) of the last reading; 0 before the first.
    read_at: std::sync::atomic::AtomicU64,
}

impl ChainClock {
    /// The offset to use now, read again from `provider` when the last reading is older than the refresh period.
    async fn offset(&self, chain_id: u64, provider: Option<&DynProvider>) -> i64 {
        use std::sync::atomic::Ordering::Relaxed;
        let host = crate::clock::system_now();
        let Some(provider) = provider else { return 0 };
        if host.saturating_sub(self.read_at.load(Relaxed)) < CHAIN_CLOCK_REFRESH_SECS {
            return self.offset.load(Relaxed);
        }
        match tokio::time::timeout(CHAIN_CLOCK_TIMEOUT, chain_time(chain_id, provider)).await {
            Ok(Ok(chain)) => {
                let offset = chain as i64 - crate::clock::system_now() as i64;
                self.offset.store(offset, Relaxed);
                self.read_at.store(host, Relaxed);
                offset
            }
            Ok(Err(e)) => {
                tracing::warn!(chain_id, error = %e, "the chain's clock could not be read; using the last reading");
                self.offset.load(Relaxed)
            }
            Err(_) => {
                tracing::warn!(chain_id, "the chain's clock did not answer in time; using the last reading");
                self.offset.load(Relaxed)
            }
        }
    }
}

/// The timestamp the chain gives its next block: the `pending` block's on EVM (the latest's when the node serves no
/// pending block), the latest block's on TRON (whose JSON-RPC has no pending block).
async fn chain_time(chain_id: u64, provider: &DynProvider) -> Result<u64, String> {
    use alloy::eips::BlockNumberOrTag;
    if abi::chain::Family::of(chain_id) == abi::chain::Family::Evm
        && let Ok(Some(pending)) = provider.get_block_by_number(BlockNumberOrTag::Pending).await
    {
        return Ok(pending.header.timestamp);
    }
    let latest = provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(|e| e.to_string())?;
    latest.map(|b| b.header.timestamp).ok_or_else(|| "the node has no latest block".to_owned())
}

/// Every configured chain by id.
#[derive(Debug, Clone, Default)]
pub struct ChainRegistry {
    chains: HashMap<u64, Chain>,
}

impl ChainRegistry {
    /// Builds every chain once; an unusable URL or key fails the start.
    pub fn from_settings(settings: &[ChainSettings]) -> eyre::Result<Self> {
        let mut chains = HashMap::new();
        for c in settings {
            let (id, settlement) = (c.spec.chain_id, c.spec.settlement);
            for (field, url) in [("public_rpc_url", &c.tuning.public_rpc_url), ("explorer_url", &c.tuning.explorer_url)]
            {
                // Pages link to these and hand them to wallets: web URLs only (no `javascript:` and the like).
                if let Some(url) = url {
                    eyre::ensure!(
                        url.starts_with("https://") || url.starts_with("http://"),
                        "chains: {field} of chain {id} must be an http(s) URL"
                    );
                }
            }
            let key = operator_key(c)?;
            let fees = c.tuning.fee_policy();
            fees.validate().map_err(|e| eyre::eyre!("chains: payout fees of chain {id}: {e}"))?;
            let previous: Vec<Address> = c.spec.previous.iter().map(|p| p.settlement).collect();
            let mut tron_previous = Vec::new();
            for contract in &previous {
                if let Some(tron) = TronAccess::from_settings(c, *contract, key.as_ref())? {
                    tron_previous.push((*contract, tron));
                }
            }
            let chain = Chain {
                chain_id: id,
                settlement,
                previous,
                tron_previous,
                access: ChainAccess::from_settings(c, key.as_ref())?,
                tron: TronAccess::from_settings(c, settlement, key.as_ref())?,
                confirmations: c.spec.confirmations,
                signature_ttl_secs: c.tuning.signature_ttl_secs,
                approval_window_secs: c.tuning.approval_window_secs,
                fee_limit_sun: c.tuning.fee_limit_sun,
                fees,
                send_lock: Arc::default(),
                clock: Arc::default(),
            };
            eyre::ensure!(chains.insert(id, chain).is_none(), "chains: chain {id} is listed twice");
        }
        Ok(Self { chains })
    }

    /// The chain, if configured.
    pub fn get(&self, chain_id: u64) -> Option<&Chain> {
        self.chains.get(&chain_id)
    }

    /// The chain; `chain_not_configured`.
    pub fn chain(&self, chain_id: u64) -> Result<&Chain, Refusal> {
        self.get(chain_id).ok_or_else(|| {
            Refusal::unavailable(
                "chain_not_configured",
                format!("no Settlement contract configured for chain {chain_id}"),
            )
        })
    }

    /// Chain `chain_id`'s time now ([`Chain::now`]): what deadlines are computed from and expiry judged by; `clock`
    /// alone for a chain not configured here.
    pub async fn now(&self, chain_id: u64, clock: &crate::clock::Clock) -> u64 {
        match self.get(chain_id) {
            Some(chain) => chain.now(clock).await,
            None => clock.now(),
        }
    }

    /// The chain's Settlement contract; `chain_not_configured`.
    pub fn settlement(&self, chain_id: u64) -> Result<Address, Refusal> {
        self.chain(chain_id).map(|c| c.settlement)
    }
}

impl Chain {
    /// The chain's time now, in Unix seconds: `clock` (the host's, moved by tests) plus the chain's offset from the
    /// host ([`ChainClock`]); the host's clock alone on a chain without an RPC.
    pub async fn now(&self, clock: &crate::clock::Clock) -> u64 {
        let offset = self.clock.offset(self.chain_id, self.access.as_ref().map(|a| &a.provider)).await;
        clock.now().saturating_add_signed(offset)
    }

    /// The payout operator's address (the key the API sends batches with), if one is configured.
    pub fn operator(&self) -> Option<Address> {
        match &self.tron {
            Some(TronAccess(tron)) => tron.operator(),
            None => self.access.as_ref().and_then(|a| a.operator),
        }
    }

    /// RPC access; `chain_rpc_not_configured`.
    pub fn access(&self) -> Result<&ChainAccess, Refusal> {
        self.access.as_ref().ok_or_else(|| {
            Refusal::unavailable(
                "chain_rpc_not_configured",
                format!("no rpc_url in the chain spec for chain {}", self.chain_id),
            )
        })
    }

    /// The chain's payout interface with the operator key, to send batches; 503 when the chain has no RPC or no
    /// operator key. A TRON chain sends through TRON's gRPC API.
    pub fn submitter(&self) -> Result<Arc<dyn PayoutChain>, Refusal> {
        self.submitter_for(self.settlement)
    }

    /// The contract a batch is signed for: `contract` as stored, or, for one fixed before batches named their
    /// contract, the chain's oldest contract (the only one there was then; migration 0027).
    pub fn batch_contract(&self, contract: Option<Address>) -> Address {
        contract.unwrap_or_else(|| self.previous.first().copied().unwrap_or(self.settlement))
    }

    /// Every contract of the chain: the previous ones, oldest first, then the live one.
    pub fn contracts(&self) -> impl Iterator<Item = Address> + '_ {
        self.previous.iter().copied().chain(std::iter::once(self.settlement))
    }

    /// The TRON payout family of `contract`, one of the chain's contracts.
    fn tron_for(&self, contract: Address) -> Option<&TronAccess> {
        if contract == self.settlement {
            return self.tron.as_ref();
        }
        self.tron_previous.iter().find(|(c, _)| *c == contract).map(|(_, t)| t)
    }

    /// 503 `contract_not_configured` unless `contract` is one of the chain's (live or previous): a batch signed for a
    /// contract since dropped from the chain spec cannot be sent or read here.
    fn known(&self, contract: Address) -> Result<(), Refusal> {
        if self.contracts().any(|c| c == contract) {
            return Ok(());
        }
        Err(Refusal::unavailable(
            "contract_not_configured",
            format!(
                "contract {} is no longer in the chain spec of chain {}",
                abi::tron::show(self.chain_id, contract),
                self.chain_id
            ),
        ))
    }

    /// As [`submitter`](Self::submitter), for `contract` (the live or a previous contract of the chain).
    pub fn submitter_for(&self, contract: Address) -> Result<Arc<dyn PayoutChain>, Refusal> {
        self.known(contract)?;
        let no_key = || {
            Refusal::unavailable(
                "operator_not_configured",
                format!("no operator key configured for chain {}", self.chain_id),
            )
        };
        if let Some(TronAccess(tron)) = self.tron_for(contract) {
            tron.operator().ok_or_else(no_key)?;
            return Ok(tron.clone());
        }
        self.not_tron()?;
        let access = self.access()?;
        let operator = access.operator.ok_or_else(no_key)?;
        let submitter = PayoutSubmitter::new(access.provider.clone(), operator, contract, self.confirmations);
        Ok(Arc::new(submitter.with_fees(self.fees).with_send_lock(self.send_lock.clone())))
    }

    /// A TRON chain is reached through java-tron's gRPC API only: 503 `tron_grpc_not_configured` when the chain spec
    /// names none (its JSON-RPC cannot send, and reads payout state only as the EVM would).
    fn not_tron(&self) -> Result<(), Refusal> {
        if abi::chain::Family::of(self.chain_id) == abi::chain::Family::Tron {
            return Err(Refusal::unavailable(
                "tron_grpc_not_configured",
                format!("no [chains.tron] grpc_url in the chain spec for chain {}", self.chain_id),
            ));
        }
        Ok(())
    }

    /// The chain's payout interface for reading: where batches stand and whether they can still execute; 503
    /// when the chain has no RPC.
    pub fn reader(&self) -> Result<Arc<dyn PayoutChain>, Refusal> {
        self.reader_for(self.settlement)
    }

    /// As [`reader`](Self::reader), for `contract` (the live or a previous contract of the chain).
    pub fn reader_for(&self, contract: Address) -> Result<Arc<dyn PayoutChain>, Refusal> {
        self.known(contract)?;
        if let Some(TronAccess(tron)) = self.tron_for(contract) {
            return Ok(tron.clone());
        }
        self.not_tron()?;
        let access = self.access()?;
        Ok(Arc::new(PayoutSubmitter::read_only(access.provider.clone(), contract, self.confirmations)))
    }
}

/// A view of one of the chain's contracts (`what` names it in the log), bounded in time: 503 `chain_unavailable` when
/// the RPC fails or does not answer.
pub async fn read_view<T>(
    chain_id: u64,
    contract: Address,
    what: &str,
    call: impl IntoFuture<Output = Result<T, alloy::contract::Error>>,
) -> Result<T, Refusal> {
    match tokio::time::timeout(CHAIN_TIMEOUT, call.into_future()).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            tracing::warn!(chain_id, %contract, error = %e, what, "a contract view could not be read");
            Err(Refusal::unavailable("chain_unavailable", "the chain's RPC could not be read"))
        }
        Err(_) => Err(Refusal::unavailable("chain_unavailable", "the chain's RPC did not answer in time")),
    }
}

/// Why the contract refuses a payload, in the words an admin acts on, from its decoded error (`reason`, as the
/// chain family reports it: `Expired(Expired { deadline: … })`, `InsufficientFunds(…)`, …): never the raw error.
pub fn refusal_in_words(reason: &str) -> String {
    let name: String = reason.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let words = match name.as_str() {
        "Expired" => {
            "the chain's time is past its deadline, so it can never execute: once the chain proves it \
                      (a final block past the deadline, its nonce unused) it is cancelled and signed again — a payout \
                      batch's rewards go back to pending for the next batch, a proof of solvency is built again"
        }
        "InsufficientFunds" => {
            "custody, less what members can already claim, cannot cover its total: wait for \
                                payments in, or pay less"
        }
        "InvalidSignature" => {
            "it is not signed by the contract's current signer key (was the signer rotated?): \
                               sign it again"
        }
        "NonceAlreadyUsed" => {
            "its nonce is spent: it executed already (the listener settles it) or the admin \
                               cancelled it"
        }
        "EnforcedPause" => "the contract is paused: nothing but claims and commitments goes until the admin unpauses",
        "AccessControlUnauthorizedAccount" => "the key sending it lacks the contract role it needs",
        "BelowFloor" => {
            "it would take custody below what members are owed (the latest committed liabilities less \
                         what was paid to them since, plus the sales buyers may still take back)"
        }
        "CommitmentTooOld" => {
            "the contract takes it only after a recent proof of solvency of the asset: wait for \
                               the next commitment"
        }
        "SelfPayment" => "an entry pays the Settlement contract itself",
        "BatchTotalMismatch" => "its entries do not sum to its signed total",
        "EpochOutOfOrder" | "AsOfBlockOutOfRange" | "AsOfBlockTooOld" => {
            "another commitment took its place, or its liabilities are older than the contract allows: it is built \
             again"
        }
        "OutboundTransferFailed" => "the token refused to move the funds (paused, or the contract blacklisted)",
        _ if name.is_empty() => {
            return format!("the contract refuses it ({})", reason.chars().take(120).collect::<String>());
        }
        _ => return format!("the contract refuses it (error {name})"),
    };
    format!("the contract refuses it: {words}")
}

/// A chain call, bounded in time: 422 `chain_refused` when the contract refuses (the reason in words), 503
/// `chain_unavailable` when the RPC fails or does not answer, 503 `operator_underfunded` when the operator cannot
/// pay the fees.
pub async fn on_chain<T>(call: impl Future<Output = Result<T, SubmitError>>) -> Result<T, Refusal> {
    match tokio::time::timeout(CHAIN_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(SubmitError::Refused(reason))) => {
            Err(Refusal::unprocessable("chain_refused", refusal_in_words(&reason)))
        }
        Ok(Err(SubmitError::Provider(message))) => {
            tracing::warn!(%message, "chain call failed");
            Err(Refusal::unavailable("chain_unavailable", "the chain's RPC could not be reached"))
        }
        Ok(Err(e @ SubmitError::Underfunded(_))) => Err(Refusal::unavailable("operator_underfunded", e.to_string())),
        Err(_) => Err(Refusal::unavailable("chain_unavailable", "the chain's RPC did not answer in time")),
    }
}

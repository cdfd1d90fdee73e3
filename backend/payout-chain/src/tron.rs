//! TRON's payout family: `executePayoutBatch` as a TriggerSmartContract over java-tron's gRPC API, built,
//! estimated, signed and broadcast with `tronic`.
//!
//! * **No account nonce.** A transaction references a recent block (TAPOS) and carries an expiration (at most
//!   24 h). [`TronPayoutChain::prepare`] signs one and hands back its bytes and id for the caller to keep before
//!   [`TronPayoutChain::broadcast`] sends them; a retry broadcasts the identical bytes again. A transaction is
//!   dead only when a **solidified** block's timestamp is past its expiration and it is in no block — judged by
//!   the Solidity node, which gave that block, not by a full node that may lag behind it
//!   ([`TronPayoutChain::signed_status`] answers [`BatchOutcome::Dropped`] then, [`BatchOutcome::Unseen`]
//!   before); only then may a new transaction carry the batch (whose nonce still allows one execution).
//! * **Energy.** The `fee_limit` is estimated by a constant call (energy × 1.5 × `getEnergyFee`, tronic's
//!   rule) and refused above the chain's cap: a transaction over its limit fails with `OUT_OF_ENERGY` and burns
//!   the whole limit.
//! * **Fees are checked before anything is sent.** The operator's TRX must cover the transaction's `fee_limit` and,
//!   when neither its free daily bandwidth nor staked bandwidth covers the transaction's bytes, their price in TRX
//!   (`getTransactionFee` per byte) — before a transaction is signed and kept, and before kept bytes are broadcast
//!   again. A shortfall, or the node's `BANDWITH_ERROR`, is [`SubmitError::Underfunded`]: nothing is sent, and the
//!   same send goes through once the account is topped up (an energy shortfall would be worse than a refusal: TRON
//!   would run the call with what the balance buys and burn it all on `OUT_OF_ENERGY`).
//! * **Outcomes** come from the transaction info (`GetTransactionInfoById`): success with the batch's events,
//!   or a failure (revert, out of energy); final once its block is solidified.

use std::time::Duration;

use abi::Settlement;
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    sol_types::{SolCall, SolInterface},
};
use tokio::sync::OnceCell;
use tronic::{
    client::{
        Client,
        pending::{ManualSigning, PendingTransaction},
    },
    domain::{
        Hash32, ResponseCode,
        address::TronAddress,
        contract::{Contract, ContractType, TriggerSmartContract},
        transaction::{Transaction, TransactionInfo, TxCode},
        trx::Trx,
    },
    error::Error as TronError,
    provider::{
        TronProvider,
        grpc::{ConnectOptions, GrpcProvider},
    },
    signer::LocalSigner,
};

use crate::{
    BatchOutcome, Broadcast, ChainFuture, DeadProof, Liveness, PayoutChain, Prepared, SignedCall, SignedTransaction,
    SubmitError,
};

/// How to reach a TRON chain and what a payout transaction may cost.
#[derive(Clone, Debug)]
pub struct TronSettings {
    /// The full node's gRPC endpoint (java-tron's `Wallet`, port 50051 by default).
    pub grpc_url: String,
    /// The solidity node's gRPC endpoint (`WalletSolidity`, 50061 by default); `None`: the solidified block is
    /// read from the full node's `GetNodeInfo`.
    pub solidity_grpc_url: Option<String>,
    /// The Settlement contract (the 20 bytes inside its `T…` address).
    pub settlement: Address,
    /// Highest `fee_limit` (SUN) a payout transaction may carry; a batch estimated above it is refused.
    pub fee_limit_cap_sun: i64,
    /// Lifetime of a signed transaction (at most 24 h): how long it may wait for a block.
    pub expiration: Duration,
    /// The provider's API key, sent as `TRON-PRO-API-KEY` on every gRPC call (full and Solidity node).
    pub api_key: Option<secrecy::SecretString>,
}

type TronClient = Client<GrpcProvider, LocalSigner>;

/// Sends and tracks payout batches on a TRON chain.
pub struct TronPayoutChain {
    settings: TronSettings,
    /// The operator key (OPERATOR_ROLE); `None`: read-only.
    operator: Option<LocalSigner>,
    client: OnceCell<TronClient>,
    /// `WalletSolidity` on `solidity_grpc_url`, for the dead rule.
    solidity: OnceCell<tonic::client::Grpc<tonic::transport::Channel>>,
}

/// `protocol.BytesMessage`.
#[derive(Clone, PartialEq, prost::Message)]
struct BytesMessage {
    #[prost(bytes = "vec", tag = "1")]
    value: Vec<u8>,
}

/// The fields of `protocol.TransactionInfo` the dead rule reads (prost skips the others).
#[derive(Clone, PartialEq, prost::Message)]
struct SolidifiedInfo {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
    #[prost(int64, tag = "3")]
    block_number: i64,
}

/// The header a TRON provider reads its API key from (TronGrid's), in gRPC metadata's lower case.
const API_KEY_HEADER: &str = "tron-pro-api-key";

/// SUN per byte of bandwidth when a node does not say (`getTransactionFee` on mainnet).
const DEFAULT_TRANSACTION_FEE_SUN: i64 = 1_000;

/// SUN as TRX, for people: `12.5 TRX`.
fn trx_text(sun: i64) -> String {
    let (whole, part) = (sun / 1_000_000, (sun % 1_000_000).abs());
    if part == 0 {
        format!("{whole} TRX")
    } else {
        format!("{whole}.{}", format!("{part:06}").trim_end_matches('0')) + " TRX"
    }
}

impl std::fmt::Debug for TronPayoutChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TronPayoutChain")
            .field("settings", &self.settings)
            .field("operator", &self.operator.as_ref().map(|s| s.address()))
            .finish_non_exhaustive()
    }
}

fn tron_err(e: TronError) -> SubmitError {
    match e {
        TronError::NodeRejected { code, message } => match code {
            ResponseCode::ServerBusy
            | ResponseCode::NoConnection
            | ResponseCode::NotEnoughEffectiveConnection
            | ResponseCode::BlockUnsolidified
            | ResponseCode::OtherError => SubmitError::Provider(format!("{code:?}: {message}")),
            ResponseCode::BandwithError => {
                SubmitError::Underfunded(format!("the node refused the transaction for want of TRX: {message}"))
            }
            _ => SubmitError::Refused(format!("{code:?}: {message}")),
        },
        TronError::ContractReverted { data, message } => SubmitError::Refused(revert_reason(&data, &message)),
        other => SubmitError::Provider(other.to_string()),
    }
}

fn revert_reason(data: &[u8], message: &str) -> String {
    Settlement::SettlementErrors::abi_decode(data).map(|e| format!("{e:?}")).unwrap_or_else(|_| message.to_owned())
}

fn unix_ms(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The payload's execution recorded in a successful transaction's info, from the Settlement contract's logs.
fn outcome_from_info(call: &SignedCall, settlement: Address, tx: B256, info: &TransactionInfo) -> Option<BatchOutcome> {
    let logs: Vec<alloy::primitives::Log> = info
        .log
        .iter()
        .filter(|log| log.address.as_slice() == settlement.as_slice())
        .map(|log| {
            let topics = log.topics.iter().filter(|t| t.len() == 32).map(|t| B256::from_slice(t)).collect();
            alloy::primitives::Log::new_unchecked(settlement, topics, log.data.clone().into())
        })
        .collect();
    call.executed(tx, u64::try_from(info.block_number).ok()?, &logs)
}

impl TronPayoutChain {
    /// A chain that sends with `operator` (its 32-byte secret key); `None`: read-only.
    pub fn new(settings: TronSettings, operator_key: Option<&[u8]>) -> Result<Self, SubmitError> {
        let operator = operator_key
            .map(LocalSigner::from_bytes)
            .transpose()
            .map_err(|e| SubmitError::Refused(format!("operator key: {e}")))?;
        Ok(Self { settings, operator, client: OnceCell::new(), solidity: OnceCell::new() })
    }

    /// The operator key's address, when one is configured.
    pub fn operator(&self) -> Option<Address> {
        self.operator.as_ref().map(|s| Address::from(s.address()))
    }

    async fn client(&self) -> Result<&TronClient, SubmitError> {
        self.client
            .get_or_try_init(|| async {
                let auth = self
                    .settings
                    .api_key
                    .clone()
                    .map(|secret| tronic::client::Auth::Bearer { name: API_KEY_HEADER.to_owned(), secret });
                let provider = ConnectOptions::builder()
                    .maybe_auth(auth)
                    .maybe_solidity_uri(self.settings.solidity_grpc_url.clone())
                    .connect_timeout(Duration::from_secs(5))
                    .connect(&self.settings.grpc_url)
                    .await
                    .map_err(tron_err)?;
                Ok(Client::builder().provider(provider).maybe_signer(self.operator.clone()).build())
            })
            .await
    }

    fn settlement(&self) -> TronAddress {
        TronAddress::from(self.settings.settlement)
    }

    fn call(&self, owner: TronAddress, data: Vec<u8>) -> TriggerSmartContract {
        TriggerSmartContract {
            owner_address: owner,
            contract_address: self.settlement(),
            data: data.into(),
            ..Default::default()
        }
    }

    /// Whether `owner` can pay a transaction of `bandwidth` bytes with `fee_limit`: its TRX against the fee limit
    /// plus, when neither its free nor its staked bandwidth left today covers the bytes, their price in TRX
    /// (java-tron's `BandwidthProcessor`: one or the other pays for all the bytes, never both). An account that
    /// does not exist holds nothing.
    async fn fund_check(&self, owner: TronAddress, fee_limit: i64, bandwidth: i64) -> Result<(), SubmitError> {
        let provider = self.client().await?.provider();
        let (account, resources, parameters) = tokio::try_join!(
            provider.get_account(owner),
            provider.get_account_resources(owner),
            provider.chain_parameters(),
        )
        .map_err(tron_err)?;
        let free = resources.free_net_limit - resources.free_net_used;
        let staked = resources.net_limit - resources.net_used;
        let per_byte = parameters.get("getTransactionFee").copied().unwrap_or(DEFAULT_TRANSACTION_FEE_SUN);
        let burnt = if bandwidth <= free.max(staked) { 0 } else { bandwidth.saturating_mul(per_byte) };
        let needed = fee_limit.saturating_add(burnt);
        let balance = account.balance.to_sun();
        if balance >= needed {
            return Ok(());
        }
        tracing::warn!(
            operator = %owner, balance_sun = balance, fee_limit_sun = fee_limit, bandwidth_bytes = bandwidth,
            bandwidth_sun = burnt, "the TRON operator cannot pay a payout transaction's fees: nothing sent"
        );
        let cost = if burnt > 0 {
            format!("its fee limit {} and {bandwidth} bytes of bandwidth, {}", trx_text(fee_limit), trx_text(burnt))
        } else {
            format!("its fee limit; today's free bandwidth covers its {bandwidth} bytes")
        };
        Err(SubmitError::Underfunded(format!(
            "the operator account {owner} holds {} but this transaction may cost {} in fees ({cost})",
            trx_text(balance),
            trx_text(needed),
        )))
    }

    /// Whether the batch nonce is spent, read at the head.
    async fn nonce_used(&self, nonce: U256) -> Result<bool, SubmitError> {
        let client = self.client().await?;
        let data = Settlement::isNonceUsedCall { nonce }.abi_encode();
        let ext =
            client.provider().trigger_constant_contract(self.call(self.settlement(), data)).await.map_err(tron_err)?;
        let ret = ext.constant_result.first().ok_or_else(|| SubmitError::Provider("isNonceUsed: no result".into()))?;
        Settlement::isNonceUsedCall::abi_decode_returns(ret)
            .map_err(|e| SubmitError::Provider(format!("isNonceUsed: {e}")))
    }

    /// The solidified block's number and timestamp (unix ms).
    async fn solidified(&self) -> Result<(u64, i64), SubmitError> {
        let provider = self.client().await?.provider();
        let number = provider.get_solid_block_number().await.map_err(tron_err)?;
        let block = provider.get_block_by_number(number).await.map_err(tron_err)?;
        Ok((number.max(0) as u64, unix_ms(block.block_header.raw_data.timestamp)))
    }

    /// Whether the Solidity node holds transaction `tx` in a (solidified) block; `None` without a
    /// `solidity_grpc_url` (the solidified block then came from the full node itself, whose view is consistent).
    async fn solidified_holds(&self, tx: B256) -> Result<Option<bool>, SubmitError> {
        let Some(url) = &self.settings.solidity_grpc_url else { return Ok(None) };
        let grpc = self
            .solidity
            .get_or_try_init(|| async {
                let mut endpoint = tonic::transport::Channel::from_shared(url.clone())
                    .map_err(|e| SubmitError::Provider(format!("solidity_grpc_url: {e}")))?
                    .connect_timeout(Duration::from_secs(5));
                if url.starts_with("https://") {
                    // The system's roots, as tronic's channels (`SSL_CERT_FILE` names a private CA's).
                    let tls = tonic::transport::ClientTlsConfig::new().with_native_roots();
                    endpoint = endpoint
                        .tls_config(tls)
                        .map_err(|e| SubmitError::Provider(format!("solidity_grpc_url TLS: {e}")))?;
                }
                let channel = endpoint.connect_lazy();
                Ok::<_, SubmitError>(tonic::client::Grpc::new(channel))
            })
            .await?;
        let mut grpc = grpc.clone();
        grpc.ready().await.map_err(|e| SubmitError::Provider(format!("Solidity node: {e}")))?;
        let path =
            tonic::codegen::http::uri::PathAndQuery::from_static("/protocol.WalletSolidity/GetTransactionInfoById");
        let codec = tonic_prost::ProstCodec::<BytesMessage, SolidifiedInfo>::default();
        let mut request = tonic::Request::new(BytesMessage { value: tx.to_vec() });
        if let Some(key) = &self.settings.api_key {
            let value = secrecy::ExposeSecret::expose_secret(key)
                .parse()
                .map_err(|e| SubmitError::Refused(format!("the API key: {e}")))?;
            request.metadata_mut().insert(API_KEY_HEADER, value);
        }
        let info = grpc
            .unary(request, path, codec)
            .await
            .map_err(|e| SubmitError::Provider(format!("Solidity node GetTransactionInfoById: {e}")))?
            .into_inner();
        Ok(Some(info.block_number > 0 && info.id == tx.as_slice()))
    }

    /// Signs a transaction carrying the payload; refused when the contract would revert, the nonce is spent, or
    /// the estimated `fee_limit` is above the cap.
    pub async fn prepare(&self, call: &SignedCall, signature: &Bytes) -> Result<Prepared, SubmitError> {
        let Some(signer) = &self.operator else {
            return Err(SubmitError::Refused("no operator key: this chain only reads".into()));
        };
        let owner = signer.address();
        if self.nonce_used(call.nonce()).await? {
            return Err(SubmitError::Refused(format!(
                "{} nonce {} is spent on-chain: the listener settles it",
                call.what(),
                call.nonce()
            )));
        }
        let client = self.client().await?;
        let data = call.calldata(signature);
        client.provider().trigger_constant_contract(self.call(owner, data.clone())).await.map_err(tron_err)?;
        let now = client.provider().get_now_block().await.map_err(tron_err)?;
        let contract = Contract {
            contract_type: ContractType::TriggerSmartContract(self.call(owner, data)),
            ..Default::default()
        };
        let transaction = Transaction::new(contract, &now, Default::default());
        let pending: PendingTransaction<'_, _, _, ManualSigning> =
            PendingTransaction::new(client, transaction, owner, Trx::ZERO, Vec::new(), true).await.map_err(tron_err)?;
        let lifetime = time::Duration::try_from(self.settings.expiration)
            .map_err(|e| SubmitError::Refused(format!("expiration: {e}")))?;
        let mut pending = pending.set_expiration(lifetime).await.map_err(tron_err)?;
        let fee_limit = pending.transaction().raw.fee_limit.to_sun();
        if fee_limit > self.settings.fee_limit_cap_sun {
            return Err(SubmitError::Refused(format!(
                "the batch needs a fee_limit of {fee_limit} SUN, above this chain's cap of {} SUN: build a smaller batch",
                self.settings.fee_limit_cap_sun
            )));
        }
        let bandwidth = pending.estimate_bandwidth().await.map_err(tron_err)?;
        self.fund_check(owner, fee_limit, bandwidth).await?;
        pending.sign(signer, &()).await.map_err(tron_err)?;
        let transaction = pending.transaction();
        Ok(Prepared::Signed(SignedTransaction {
            id: B256::from_slice(pending.txid().as_ref()),
            raw: pending.serialize(),
            expiration_ms: unix_ms(transaction.raw.expiration),
            fee_limit,
        }))
    }

    /// Broadcasts kept bytes; the node's "dup transaction" means it has them already, its "transaction expired"
    /// that they are past their expiration (not yet that they are dead).
    pub async fn broadcast(&self, signed: &SignedTransaction) -> Result<Broadcast, SubmitError> {
        let client = self.client().await?;
        let pending =
            PendingTransaction::<'_, GrpcProvider, LocalSigner, ManualSigning>::try_deserialize(client, &signed.raw)
                .map_err(|e| SubmitError::Refused(format!("kept transaction bytes: {e}")))?;
        if B256::from_slice(pending.txid().as_ref()) != signed.id {
            return Err(SubmitError::Refused("kept transaction bytes do not match their id".into()));
        }
        let bandwidth = pending.estimate_bandwidth().await.map_err(tron_err)?;
        let owner = match pending.transaction().raw.contract.first().map(|c| &c.contract_type) {
            Some(ContractType::TriggerSmartContract(call)) => call.owner_address,
            _ => return Err(SubmitError::Refused("kept transaction bytes carry no contract call".into())),
        };
        self.fund_check(owner, signed.fee_limit, bandwidth).await?;
        match client.provider().broadcast_transaction(pending.transaction()).await {
            Ok(()) => Ok(Broadcast::Accepted),
            Err(TronError::NodeRejected { code: ResponseCode::DupTransactionError, .. }) => Ok(Broadcast::AlreadyKnown),
            Err(TronError::NodeRejected { code: ResponseCode::TransactionExpirationError, .. }) => {
                Ok(Broadcast::Expired)
            }
            Err(e) => Err(tron_err(e)),
        }
    }

    /// Where the transaction `tx` carrying `call` stands from its info: final once its block is at or below the
    /// solidified block `solid`; `None` while it is in no block.
    async fn mined_outcome(
        &self,
        call: &SignedCall,
        tx: B256,
        solid: u64,
    ) -> Result<Option<BatchOutcome>, SubmitError> {
        let provider = self.client().await?.provider();
        let info = provider.get_transaction_info(Hash32::from(tx.0)).await.map_err(tron_err)?;
        if info.block_number <= 0 {
            return Ok(None);
        }
        if info.block_number as u64 > solid {
            return Ok(Some(BatchOutcome::Pending { tx }));
        }
        if info.result == TxCode::Failed {
            tracing::warn!(%tx, message = ?info.res_message, receipt = ?info.receipt, "payout transaction failed on TRON");
            return Ok(Some(BatchOutcome::Reverted { tx }));
        }
        outcome_from_info(call, self.settings.settlement, tx, &info).map(Some).ok_or_else(|| {
            SubmitError::Provider(format!("transaction {tx} succeeded without its {}'s event", call.what()))
        })
    }

    /// Where kept bytes stand: mined (pending until solidified), [`BatchOutcome::Unseen`] while they may still
    /// be included, [`BatchOutcome::Dropped`] once dead.
    pub async fn signed_status(
        &self,
        call: &SignedCall,
        signed: &SignedTransaction,
    ) -> Result<BatchOutcome, SubmitError> {
        // The solidified block first: if the transaction is in no block after that, no later block (all later
        // than the solidified one) can include it once the solidified block is past its expiration.
        let (solid, solid_ms) = self.solidified().await?;
        if let Some(outcome) = self.mined_outcome(call, signed.id, solid).await? {
            return Ok(outcome);
        }
        if solid_ms > signed.expiration_ms {
            // The full node says "in no block", but it may lag behind the Solidity node that gave the solidified
            // block: dead only when that node does not hold it either. If it does, the full node catches up.
            if self.solidified_holds(signed.id).await? == Some(true) {
                tracing::warn!(tx = %signed.id, "the full node lags behind the Solidity node: not dead, solidified");
                return Ok(BatchOutcome::Pending { tx: signed.id });
            }
            return Ok(BatchOutcome::Dropped { tx: signed.id });
        }
        Ok(BatchOutcome::Unseen { tx: signed.id, expiration_ms: signed.expiration_ms })
    }

    /// Whether a batch signed with `nonces` and `deadline` can still execute, judged at the solidified block.
    pub async fn liveness(&self, nonces: &[U256], deadline: u64) -> Result<Liveness, SubmitError> {
        let (block, solid_ms) = self.solidified().await?;
        let block_timestamp = (solid_ms / 1000).max(0) as u64;
        if block_timestamp <= deadline {
            return Ok(Liveness::MayStillExecute);
        }
        for nonce in nonces {
            if self.nonce_used(*nonce).await? {
                return Ok(Liveness::NonceUsed(*nonce));
            }
        }
        let head = self.client().await?.provider().get_now_block().await.map_err(tron_err)?;
        Ok(Liveness::Dead(DeadProof {
            block,
            block_timestamp,
            head: head.block_header.raw_data.number.max(0) as u64,
            deadline,
            unused_nonces: nonces.to_vec(),
        }))
    }
}

impl PayoutChain for TronPayoutChain {
    /// Signs and broadcasts in one step, keeping nothing: for tools and tests. The backend keeps the bytes
    /// ([`Self::prepare`], then [`Self::broadcast`]).
    fn submit<'a>(&'a self, call: &'a SignedCall, signature: &'a Bytes) -> ChainFuture<'a, BatchOutcome> {
        Box::pin(async move {
            match self.prepare(call, signature).await? {
                Prepared::Executed(outcome) => Ok(outcome),
                Prepared::Signed(signed) => {
                    self.broadcast(&signed).await?;
                    Ok(BatchOutcome::Pending { tx: signed.id })
                }
            }
        })
    }

    fn status<'a>(&'a self, call: &'a SignedCall, tx: B256) -> ChainFuture<'a, BatchOutcome> {
        Box::pin(async move {
            let (solid, _) = self.solidified().await?;
            Ok(self.mined_outcome(call, tx, solid).await?.unwrap_or(BatchOutcome::Pending { tx }))
        })
    }

    /// TRON has no log search over gRPC: an executed payload is found from the transaction the backend kept
    /// ([`Self::signed_status`]); a nonce spent otherwise is reported for the listener to settle.
    fn find_execution<'a>(&'a self, call: &'a SignedCall) -> ChainFuture<'a, Option<BatchOutcome>> {
        Box::pin(async move {
            let nonce = call.nonce();
            if !self.nonce_used(nonce).await? {
                return Ok(None);
            }
            Err(SubmitError::Refused(format!(
                "{} nonce {nonce} is spent on-chain: the listener settles it",
                call.what()
            )))
        })
    }

    fn liveness<'a>(&'a self, nonces: &'a [U256], deadline: u64) -> ChainFuture<'a, Liveness> {
        Box::pin(TronPayoutChain::liveness(self, nonces, deadline))
    }

    fn keeps_signed_bytes(&self) -> bool {
        true
    }

    fn prepare<'a>(&'a self, call: &'a SignedCall, signature: &'a Bytes) -> ChainFuture<'a, Prepared> {
        Box::pin(TronPayoutChain::prepare(self, call, signature))
    }

    fn broadcast<'a>(&'a self, signed: &'a SignedTransaction) -> ChainFuture<'a, Broadcast> {
        Box::pin(TronPayoutChain::broadcast(self, signed))
    }

    fn signed_status<'a>(
        &'a self,
        call: &'a SignedCall,
        signed: &'a SignedTransaction,
    ) -> ChainFuture<'a, BatchOutcome> {
        Box::pin(TronPayoutChain::signed_status(self, call, signed))
    }
}

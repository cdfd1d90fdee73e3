//! The network a deployment talks to, whatever its family: reads (`eth_call`, code, chain id) and transactions
//! signed by a given key — on EVM through JSON-RPC, on TRON through java-tron's gRPC API ([`crate::tron`]) with its
//! JSON-RPC for the chain id.

use std::time::Duration;

use alloy::{
    eips::{BlockId, eip2718::Encodable2718},
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider, ProviderBuilder, SendableTx},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};

use crate::{tron, tron_wire};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A mined transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    /// Its hash (TRON: its id).
    pub tx: B256,
    /// Its block.
    pub block: u64,
}

/// A creation signed before it is sent (EVM): its hash and bytes are recorded first, so that a run that stops
/// after sending finds it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// Its hash.
    pub tx: B256,
    /// The sender's account nonce it uses: at most one transaction of that nonce is ever mined.
    pub nonce: u64,
    /// The signed transaction as broadcast.
    pub raw: Bytes,
}

/// A mined transaction's outcome (EVM receipt, or TRON transaction info).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The transaction and its block.
    pub sent: Sent,
    /// Whether it succeeded.
    pub success: bool,
    /// The contract it created, if it created one.
    pub created: Option<Address>,
}

/// Where the deployment reads and sends.
#[derive(Clone, Debug)]
pub enum Network {
    /// An EVM chain's JSON-RPC.
    Evm {
        /// The endpoint.
        url: String,
        /// A provider without a wallet, for reads.
        rpc: DynProvider,
    },
    /// A TRON network: java-tron's gRPC API for everything but the chain id, which its JSON-RPC gives.
    Tron {
        /// The full node's gRPC endpoint.
        grpc_url: String,
        /// The full node's JSON-RPC.
        rpc: DynProvider,
        /// The provider's API key, sent on every request.
        api_key: Option<String>,
    },
}

fn provider(url: &str, api_key: Option<&str>) -> eyre::Result<DynProvider> {
    let headers = service_kit::chain_spec::api_key_headers(api_key)?;
    let http = reqwest::Client::builder().timeout(TIMEOUT).default_headers(headers).build()?;
    Ok(ProviderBuilder::new().connect_reqwest(http, url.parse()?).erased())
}

impl Network {
    /// An EVM chain at `rpc_url`.
    pub fn evm(rpc_url: &str) -> eyre::Result<Self> {
        Ok(Self::Evm { url: rpc_url.to_owned(), rpc: provider(rpc_url, None)? })
    }

    /// A TRON network: its full node's JSON-RPC at `rpc_url` and gRPC at `grpc_url`, each request carrying the
    /// provider's `api_key` when one is given.
    pub fn tron(rpc_url: &str, grpc_url: &str, api_key: Option<String>) -> eyre::Result<Self> {
        let rpc = provider(rpc_url, api_key.as_deref())?;
        Ok(Self::Tron { grpc_url: grpc_url.to_owned(), rpc, api_key })
    }

    fn rpc(&self) -> &DynProvider {
        match self {
            Self::Evm { rpc, .. } | Self::Tron { rpc, .. } => rpc,
        }
    }

    /// The chain id the network answers.
    pub async fn chain_id(&self) -> eyre::Result<u64> {
        Ok(self.rpc().get_chain_id().await?)
    }

    /// The code at `at` (empty: no contract).
    pub async fn code(&self, at: Address) -> eyre::Result<Bytes> {
        match self {
            Self::Evm { rpc, .. } => Ok(rpc.get_code_at(at).await?),
            Self::Tron { grpc_url, api_key, .. } => {
                let (client, _) = tron::client_with_api_key(grpc_url, &[1; 32], api_key.as_deref()).await?;
                Ok(tron::code(&client, at).await?.into())
            }
        }
    }

    /// A constant call of `data` on `at`.
    pub async fn read(&self, at: Address, data: Vec<u8>) -> eyre::Result<Bytes> {
        match self {
            Self::Evm { rpc, .. } => Ok(rpc.call(TransactionRequest::default().to(at).input(data.into())).await?),
            Self::Tron { grpc_url, api_key, .. } => {
                let (client, signer) = tron::client_with_api_key(grpc_url, &[1; 32], api_key.as_deref()).await?;
                Ok(tron::read(&client, signer.address(), at, data).await?.into())
            }
        }
    }

    /// The next account nonce of `who` (EVM), which fixes the address its next creation gets.
    pub async fn next_nonce(&self, who: Address) -> eyre::Result<Option<u64>> {
        match self {
            Self::Evm { rpc, .. } => Ok(Some(rpc.get_transaction_count(who).pending().await?)),
            Self::Tron { .. } => Ok(None),
        }
    }

    /// Sends `data` to `at`, signed by `key`; an error when it reverts.
    pub async fn send(&self, key: &PrivateKeySigner, at: Address, data: Vec<u8>) -> eyre::Result<Sent> {
        match self {
            Self::Evm { url, .. } => {
                let request = TransactionRequest::default().to(at).input(data.into());
                Self::evm_send(url, key, request).await.map(|(sent, _)| sent)
            }
            Self::Tron { grpc_url, api_key, .. } => {
                let secret = key.to_bytes();
                let (client, signer) =
                    tron::client_with_api_key(grpc_url, secret.as_slice(), api_key.as_deref()).await?;
                let mined = tron::trigger(&client, &signer, at, data, 0).await?;
                Ok(Sent { tx: mined.txid, block: mined.block })
            }
        }
    }

    /// Creates a contract (`code`: creation bytecode and constructor arguments) signed by `key`: its address and
    /// the transaction.
    pub async fn create(&self, key: &PrivateKeySigner, name: &str, code: Vec<u8>) -> eyre::Result<(Address, Sent)> {
        match self {
            Self::Evm { url, .. } => {
                let request = TransactionRequest::default().with_deploy_code(code);
                let (sent, created) = Self::evm_send(url, key, request).await?;
                Ok((created.ok_or_else(|| eyre::eyre!("{name}: the receipt names no contract"))?, sent))
            }
            Self::Tron { grpc_url, api_key, .. } => {
                let mined = tron::create(grpc_url, api_key.as_deref(), key, name, code).await?;
                Ok((mined.contract, Sent { tx: mined.txid, block: mined.block }))
            }
        }
    }

    /// The provider's API key (TRON), if any.
    fn api_key(&self) -> Option<&str> {
        match self {
            Self::Evm { .. } => None,
            Self::Tron { api_key, .. } => api_key.as_deref(),
        }
    }

    /// A client of the TRON full node's gRPC API with java-tron's own messages ([`tron_wire`]); an error on EVM.
    pub async fn tron_wallet(&self) -> eyre::Result<tron_wire::Wallet> {
        match self {
            Self::Evm { .. } => eyre::bail!("not a TRON network"),
            Self::Tron { grpc_url, .. } => tron_wire::wallet(grpc_url, self.api_key()).await,
        }
    }

    /// On TRON, the id of the network's genesis block (which network the node is of); `None` on EVM.
    pub async fn genesis_block_id(&self) -> eyre::Result<Option<B256>> {
        match self {
            Self::Evm { .. } => Ok(None),
            Self::Tron { .. } => Ok(Some(tron_wire::genesis_block_id(&mut self.tron_wallet().await?).await?)),
        }
    }

    /// The account nonce of `who` in the latest block (EVM): transactions of lower nonces are mined.
    pub async fn mined_nonce(&self, who: Address) -> eyre::Result<u64> {
        Ok(self.rpc().get_transaction_count(who).latest().await?)
    }

    /// The code at `at` as of block `block` (EVM; a node without that block's state answers an error).
    pub async fn code_at(&self, at: Address, block: u64) -> eyre::Result<Bytes> {
        Ok(self.rpc().get_code_at(at).block_id(BlockId::number(block)).await?)
    }

    /// The latest block's number.
    pub async fn head(&self) -> eyre::Result<u64> {
        Ok(self.rpc().get_block_number().await?)
    }

    /// Signs the creation of `code` (creation bytecode and constructor arguments) with `key` at account nonce
    /// `nonce`, fees and gas from the node (EVM); nothing is sent.
    pub async fn sign_create(&self, key: &PrivateKeySigner, code: Vec<u8>, nonce: u64) -> eyre::Result<Signed> {
        let Self::Evm { url, .. } = self else { eyre::bail!("signed ahead on EVM only") };
        let wallet = ProviderBuilder::new().wallet(EthereumWallet::from(key.clone())).connect_http(url.parse()?);
        let request = TransactionRequest::default().with_from(key.address()).with_deploy_code(code).with_nonce(nonce);
        let SendableTx::Envelope(envelope) = wallet.fill(request).await? else {
            eyre::bail!("the creation was not signed")
        };
        Ok(Signed { tx: *envelope.tx_hash(), nonce, raw: envelope.encoded_2718().into() })
    }

    /// Broadcasts a signed transaction (EVM). A node that has it already answers so: that is no error.
    pub async fn broadcast(&self, raw: &[u8]) -> eyre::Result<()> {
        match self.rpc().send_raw_transaction(raw).await {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().to_lowercase().contains("already known") => Ok(()),
            Err(e) if e.to_string().to_lowercase().contains("known transaction") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The outcome of `tx` once it is in a block (`None` before, or when the node does not know it).
    pub async fn outcome(&self, tx: B256) -> eyre::Result<Option<Outcome>> {
        match self {
            Self::Evm { rpc, .. } => Ok(rpc.get_transaction_receipt(tx).await?.map(|r| Outcome {
                sent: Sent { tx, block: r.block_number.unwrap_or_default() },
                success: r.status(),
                created: r.contract_address,
            })),
            Self::Tron { .. } => {
                let mut wallet = self.tron_wallet().await?;
                Ok(tron_wire::included(&mut wallet, tx).await?.map(|i| Outcome {
                    sent: Sent { tx, block: i.block as u64 },
                    success: i.success,
                    created: tron_wire::evm_address(&i.info.contract_address),
                }))
            }
        }
    }

    /// Waits at most `within` for `tx` to be in a block.
    pub async fn wait(&self, tx: B256, within: Duration) -> eyre::Result<Option<Outcome>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(outcome) = self.outcome(tx).await? {
                return Ok(Some(outcome));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The head block's time (Unix milliseconds) on TRON: a transaction whose expiration is before it can never be
    /// in a block.
    pub async fn tron_head_time_ms(&self) -> eyre::Result<i64> {
        Ok(tron_wire::head(&mut self.tron_wallet().await?).await?.2)
    }

    /// Signs the creation of `code` on TRON by `key` (`CreateSmartContract`, expiring a minute after the head
    /// block); nothing is sent. Its id, its bytes and its expiration.
    pub async fn tron_sign_create(&self, key: &PrivateKeySigner, code: Vec<u8>) -> eyre::Result<(B256, Bytes, i64)> {
        let mut wallet = self.tron_wallet().await?;
        let tx = tron_wire::signed_create(&mut wallet, key, "Settlement", code, Duration::from_secs(60)).await?;
        let raw = tx.raw_data.as_ref().expect("signed with raw data");
        Ok((tron_wire::transaction_id(raw), prost::Message::encode_to_vec(&tx).into(), raw.expiration))
    }

    /// Broadcasts a signed TRON transaction (its encoding); `Ok(Err(refusal))` when the node refuses it (a node that
    /// has it already does not).
    pub async fn tron_broadcast(&self, signed: &[u8]) -> eyre::Result<Result<(), String>> {
        let tx = <tron_wire::proto::Transaction as prost::Message>::decode(signed)?;
        tron_wire::broadcast(&mut self.tron_wallet().await?, &tx).await
    }

    async fn evm_send(
        url: &str,
        key: &PrivateKeySigner,
        request: TransactionRequest,
    ) -> eyre::Result<(Sent, Option<Address>)> {
        let wallet = ProviderBuilder::new().wallet(EthereumWallet::from(key.clone())).connect_http(url.parse()?);
        let receipt = tokio::time::timeout(TIMEOUT * 4, async {
            Ok::<_, eyre::Report>(wallet.send_transaction(request).await?.get_receipt().await?)
        })
        .await
        .map_err(|_| eyre::eyre!("the transaction was not mined in {} s", TIMEOUT.as_secs() * 4))??;
        eyre::ensure!(receipt.status(), "transaction {} reverted", receipt.transaction_hash);
        let sent = Sent { tx: receipt.transaction_hash, block: receipt.block_number.unwrap_or_default() };
        Ok((sent, receipt.contract_address))
    }
}

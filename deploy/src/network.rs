//! The network a deployment talks to, whatever its family: reads (`eth_call`, code, chain id) and transactions
//! signed by a given key — on EVM through JSON-RPC, on TRON through java-tron's gRPC API ([`crate::tron`]) with its
//! JSON-RPC for the chain id.

use std::time::Duration;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};

use crate::tron;

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
                let secret = key.to_bytes();
                let (client, signer) =
                    tron::client_with_api_key(grpc_url, secret.as_slice(), api_key.as_deref()).await?;
                let mined = tron::create(&client, &signer, name, code).await?;
                Ok((mined.contract, Sent { tx: mined.txid, block: mined.block }))
            }
        }
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

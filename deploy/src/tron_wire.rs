//! java-tron's gRPC `Wallet` API with its own protocol messages (compiled from the TRON test node's copy of
//! tronprotocol/protocol by `build.rs`): what the deployment needs the exact bytes of — transactions it keeps, hands
//! to other signers or signs with several keys — and what `tronic` does not expose: an account's permissions, the
//! genesis block, a transaction's signature weight.
//!
//! A transaction's id is SHA-256 of its raw data as encoded; a signature is secp256k1 over the id, `r ‖ s ‖ v` with
//! v = 27 + the recovery id, as every TRON wallet signs.

use std::time::Duration;

use alloy::primitives::{Address, B256, keccak256};
use prost::Message;
use sha2::{Digest, Sha256};
use tonic::{
    Request, Status,
    service::interceptor::InterceptedService,
    transport::{Channel, ClientTlsConfig, Endpoint},
};

/// java-tron's protocol messages and its `Wallet` client.
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub, rust_2018_idioms)]
pub mod proto {
    tonic::include_proto!("protocol");
}

use proto::{transaction, wallet_client::WalletClient};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The first byte of every TRON address.
const ADDRESS_PREFIX: u8 = 0x41;

/// Adds the provider's API key (`TRON-PRO-API-KEY`) to every request.
#[derive(Clone)]
pub struct ApiKey(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for ApiKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert("tron-pro-api-key", key.clone());
        }
        Ok(request)
    }
}

/// A `Wallet` client of one full node.
pub type Wallet = WalletClient<InterceptedService<Channel, ApiKey>>;

/// A client of the full node at `grpc_url` (`https://` with the system's roots, or a CA named in `SSL_CERT_FILE`),
/// every request carrying `api_key` when one is given.
pub async fn wallet(grpc_url: &str, api_key: Option<&str>) -> eyre::Result<Wallet> {
    let mut endpoint = Endpoint::from_shared(grpc_url.to_owned())
        .map_err(|e| eyre::eyre!("{grpc_url}: not a gRPC endpoint ({e})"))?
        .connect_timeout(Duration::from_secs(10))
        .timeout(TIMEOUT);
    if grpc_url.starts_with("https://") {
        endpoint = endpoint.tls_config(ClientTlsConfig::new().with_native_roots())?;
    }
    let channel = endpoint.connect().await.map_err(|e| eyre::eyre!("{grpc_url}: {e}"))?;
    let key = api_key.map(str::parse).transpose().map_err(|_| eyre::eyre!("the API key is not a header value"))?;
    Ok(WalletClient::with_interceptor(channel, ApiKey(key)).max_decoding_message_size(8 * 1024 * 1024))
}

/// The 21-byte TRON form of an address.
pub fn tron_bytes(address: Address) -> Vec<u8> {
    let mut out = Vec::with_capacity(21);
    out.push(ADDRESS_PREFIX);
    out.extend_from_slice(address.as_slice());
    out
}

/// The address in a 21-byte TRON address.
pub fn evm_address(bytes: &[u8]) -> Option<Address> {
    match bytes {
        [ADDRESS_PREFIX, rest @ ..] if rest.len() == 20 => Some(Address::from_slice(rest)),
        _ => None,
    }
}

/// A transaction's id: SHA-256 of its raw data as encoded.
pub fn transaction_id(raw: &proto::transaction::Raw) -> B256 {
    B256::from_slice(&Sha256::digest(raw.encode_to_vec()))
}

/// The signature of `txid` by `key`: `r ‖ s ‖ v`, v = 27 + the recovery id.
pub fn sign_id(txid: B256, key: &alloy::signers::local::PrivateKeySigner) -> eyre::Result<Vec<u8>> {
    let signing = k256::ecdsa::SigningKey::from_slice(key.to_bytes().as_slice())?;
    let (sig, rec) = signing.sign_prehash_recoverable(txid.as_slice())?;
    let mut bytes = sig.to_bytes().to_vec();
    bytes.push(27 + rec.to_byte());
    Ok(bytes)
}

/// Who signed `txid` with `signature` (`r ‖ s ‖ v`, v in 0..=3 or 27..=30).
pub fn signer_of(txid: B256, signature: &[u8]) -> eyre::Result<Address> {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    eyre::ensure!(signature.len() >= 65, "a signature of {} bytes", signature.len());
    let v = signature[64];
    let id =
        RecoveryId::from_byte(if v >= 27 { v - 27 } else { v } & 3).ok_or_else(|| eyre::eyre!("recovery byte {v}"))?;
    let sig = Signature::from_slice(&signature[..64])?;
    let key = VerifyingKey::recover_from_prehash(txid.as_slice(), &sig, id)?;
    let point = key.to_encoded_point(false);
    Ok(Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..]))
}

/// The genesis block's id (block 0): which network the node is of.
pub async fn genesis_block_id(wallet: &mut Wallet) -> eyre::Result<B256> {
    let block = wallet.get_block_by_num2(proto::NumberMessage { num: 0 }).await?.into_inner();
    eyre::ensure!(block.blockid.len() == 32, "the node answers no block 0");
    Ok(B256::from_slice(&block.blockid))
}

/// The head block: its number, id and time (Unix milliseconds).
pub async fn head(wallet: &mut Wallet) -> eyre::Result<(i64, B256, i64)> {
    let block = wallet.get_now_block2(proto::EmptyMessage {}).await?.into_inner();
    let raw = block.block_header.and_then(|h| h.raw_data).ok_or_else(|| eyre::eyre!("the node answers no head"))?;
    eyre::ensure!(block.blockid.len() == 32, "the node's head has no id");
    Ok((raw.number, B256::from_slice(&block.blockid), raw.timestamp))
}

/// The account at `who`, or `None` when it does not exist.
pub async fn account(wallet: &mut Wallet, who: Address) -> eyre::Result<Option<proto::Account>> {
    let account =
        wallet.get_account(proto::Account { address: tron_bytes(who), ..Default::default() }).await?.into_inner();
    Ok((!account.address.is_empty()).then_some(account))
}

/// The chain's parameter `key` (`getEnergyFee`, `getUpdateAccountPermissionFee`, …).
pub async fn chain_parameter(wallet: &mut Wallet, key: &str) -> eyre::Result<Option<i64>> {
    let params = wallet.get_chain_parameters(proto::EmptyMessage {}).await?.into_inner();
    Ok(params.chain_parameter.iter().find(|p| p.key == key).map(|p| p.value))
}

/// An unsigned transaction of `contract` (its type and message), referencing the node's head block and expiring
/// `expires_in` after it (java-tron's own rule: at most 24 hours), as `permission_id`.
pub async fn unsigned(
    wallet: &mut Wallet,
    contract_type: transaction::contract::ContractType,
    type_name: &str,
    message: Vec<u8>,
    permission_id: i32,
    fee_limit: i64,
    expires_in: Duration,
) -> eyre::Result<proto::Transaction> {
    let (_, id, time) = head(wallet).await?;
    let raw = transaction::Raw {
        ref_block_bytes: id[6..8].to_vec(),
        ref_block_hash: id[8..16].to_vec(),
        expiration: time + i64::try_from(expires_in.as_millis())?,
        timestamp: time,
        fee_limit,
        contract: vec![transaction::Contract {
            r#type: contract_type as i32,
            parameter: Some(prost_types::Any {
                type_url: format!("type.googleapis.com/protocol.{type_name}"),
                value: message,
            }),
            permission_id,
            ..Default::default()
        }],
        ..Default::default()
    };
    Ok(proto::Transaction { raw_data: Some(raw), ..Default::default() })
}

/// The creation of the contract `name` from `code` (creation bytecode and constructor arguments) by `key`, signed
/// and not sent: `CreateSmartContract`, its fee limit from the node's estimate of the deployment (half again as much
/// energy, at the energy price; the network's largest fee limit when the node cannot estimate: a creation burns only
/// what it uses, and the Settlement with its three children needs over 1,000 TRX of energy), expiring `expires_in`
/// after the head block.
pub async fn signed_create(
    wallet: &mut Wallet,
    key: &alloy::signers::local::PrivateKeySigner,
    name: &str,
    code: Vec<u8>,
    expires_in: Duration,
) -> eyre::Result<proto::Transaction> {
    let owner = tron_bytes(key.address());
    let estimate =
        proto::TriggerSmartContract { owner_address: owner.clone(), data: code.clone(), ..Default::default() };
    let energy = match wallet.trigger_constant_contract(estimate).await {
        Ok(ext) => {
            let ext = ext.into_inner();
            if ext.result.as_ref().is_some_and(|r| r.result) { ext.energy_used } else { 0 }
        }
        Err(_) => 0,
    };
    let price = chain_parameter(wallet, "getEnergyFee").await?.unwrap_or(100);
    let most = chain_parameter(wallet, "getMaxFeeLimit").await?.unwrap_or(15_000_000_000);
    let fee_limit = if energy > 0 { (energy.saturating_mul(3) / 2).saturating_mul(price) } else { most };
    let create = proto::CreateSmartContract {
        owner_address: owner.clone(),
        new_contract: Some(proto::SmartContract {
            origin_address: owner,
            bytecode: code,
            consume_user_resource_percent: 100,
            name: name.to_owned(),
            origin_energy_limit: 10_000_000,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut tx = unsigned(
        wallet,
        transaction::contract::ContractType::CreateSmartContract,
        "CreateSmartContract",
        create.encode_to_vec(),
        0,
        fee_limit.min(most),
        expires_in,
    )
    .await?;
    let txid = transaction_id(tx.raw_data.as_ref().expect("built with raw data"));
    tx.signature.push(sign_id(txid, key)?);
    Ok(tx)
}

/// Broadcasts `tx`: `Ok(Err(refusal))` when the node refuses it (java-tron's code and message); a node that has it
/// already (`DUP_TRANSACTION_ERROR`) is no refusal.
pub async fn broadcast(wallet: &mut Wallet, tx: &proto::Transaction) -> eyre::Result<Result<(), String>> {
    let answer = wallet.broadcast_transaction(tx.clone()).await?.into_inner();
    let code =
        proto::r#return::ResponseCode::try_from(answer.code).unwrap_or(proto::r#return::ResponseCode::OtherError);
    if answer.result || code == proto::r#return::ResponseCode::DupTransactionError {
        return Ok(Ok(()));
    }
    Ok(Err(format!("{} {}", code.as_str_name(), String::from_utf8_lossy(&answer.message))))
}

/// What a broadcast transaction did once in a block.
#[derive(Clone, Debug)]
pub struct Included {
    /// Its block.
    pub block: i64,
    /// Whether it succeeded.
    pub success: bool,
    /// java-tron's message when it failed.
    pub message: String,
    /// Its info (logs, receipt, fee).
    pub info: proto::TransactionInfo,
}

/// The transaction `txid` once it is in a block (`None` before).
pub async fn included(wallet: &mut Wallet, txid: B256) -> eyre::Result<Option<Included>> {
    let info = wallet.get_transaction_info_by_id(proto::BytesMessage { value: txid.to_vec() }).await?.into_inner();
    if info.block_number <= 0 {
        return Ok(None);
    }
    let success = info.result == proto::transaction_info::Code::Sucess as i32;
    let message = String::from_utf8_lossy(&info.res_message).into_owned();
    Ok(Some(Included { block: info.block_number, success, message, info }))
}

/// Broadcasts `tx` and waits for its block (at most `within`); an error naming java-tron's refusal or failure.
pub async fn broadcast_and_wait(
    wallet: &mut Wallet,
    tx: &proto::Transaction,
    within: Duration,
) -> eyre::Result<Included> {
    let txid = transaction_id(tx.raw_data.as_ref().ok_or_else(|| eyre::eyre!("a transaction without raw data"))?);
    if let Err(refusal) = broadcast(wallet, tx).await? {
        eyre::bail!("the node refused transaction {txid}: {refusal}");
    }
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(included) = included(wallet, txid).await? {
            return Ok(included);
        }
        eyre::ensure!(
            tokio::time::Instant::now() < deadline,
            "transaction {txid} was broadcast but is in no block after {} s",
            within.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

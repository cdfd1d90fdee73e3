//! One unary call of java-tron's gRPC API without generated stubs: `GetBlockByNum2` of the full node's `Wallet` or the
//! Solidity node's `WalletSolidity`, for the id of a block (tronic reads no block of `WalletSolidity` but its head).
//! Plaintext, or TLS trusting the system's roots (`SSL_CERT_FILE` honoured), as tronic connects; the provider's API
//! key, when the chain has one, in the `tron-pro-api-key` metadata.

use std::time::Duration;

use alloy::primitives::B256;

/// `protocol.NumberMessage`.
#[derive(Clone, PartialEq, prost::Message)]
struct NumberMessage {
    #[prost(int64, tag = "1")]
    num: i64,
}

/// `protocol.BlockExtention`, read for its `blockid` only (the other fields are skipped).
#[derive(Clone, PartialEq, prost::Message)]
struct BlockId {
    #[prost(bytes = "vec", tag = "3")]
    blockid: Vec<u8>,
}

/// Which of java-tron's gRPC services a URL serves.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Service {
    /// The full node's `Wallet`.
    Wallet,
    /// The Solidity node's `WalletSolidity`.
    WalletSolidity,
}

/// The id of block `number` as the gRPC endpoint at `url` answers it.
pub(crate) async fn block_id(
    url: &str,
    service: Service,
    number: i64,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<B256, String> {
    let mut endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| format!("not a gRPC URL: {e}"))?
        .connect_timeout(timeout)
        .timeout(timeout);
    if url.starts_with("https://") {
        let _ = rustls::crypto::CryptoProvider::install_default(rustls::crypto::ring::default_provider());
        endpoint = endpoint
            .tls_config(tonic::transport::ClientTlsConfig::new().with_native_roots())
            .map_err(|e| format!("TLS: {e}"))?;
    }
    let channel = tokio::time::timeout(timeout, endpoint.connect())
        .await
        .map_err(|_| "no connection in time".to_owned())?
        .map_err(|e| format!("connecting: {e}"))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| format!("not ready: {e}"))?;
    let mut request = tonic::Request::new(NumberMessage { num: number });
    if let Some(key) = api_key {
        let value = key.parse().map_err(|_| "the API key is no metadata value".to_owned())?;
        request.metadata_mut().insert("tron-pro-api-key", value);
    }
    let path = match service {
        Service::Wallet => "/protocol.Wallet/GetBlockByNum2",
        Service::WalletSolidity => "/protocol.WalletSolidity/GetBlockByNum2",
    };
    let codec = tonic_prost::ProstCodec::<NumberMessage, BlockId>::default();
    let answer = grpc
        .unary(request, tonic::codegen::http::uri::PathAndQuery::from_static(path), codec)
        .await
        .map_err(|status| format!("GetBlockByNum2: {} ({:?})", status.message(), status.code()))?;
    let id = answer.into_inner().blockid;
    if id.len() != 32 {
        return Err(format!("GetBlockByNum2({number}) answered a block id of {} bytes", id.len()));
    }
    Ok(B256::from_slice(&id))
}

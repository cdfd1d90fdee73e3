//! Calling the signer from another service (the backend): builds the per-request HMAC headers.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::primitives::Address;
use secrecy::SecretString;
use serde::Serialize;

use crate::{
    api::{self, AssetPolicy, ErrorBody, ErrorEnvelope, SignResponse, SignerInfo},
    auth::{CALLER_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, request_mac},
    intent::{PayoutBatchIntent, RegisterIntent, RetopupIntent, TreasuryTransferIntent},
};

/// Why a call to the signer produced no signature.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer came back (connection refused, timeout); the signer may or may not have signed.
    #[error("signer unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    /// The signer answered with a refusal; `body.code` says which rule (`policy.*`, `nonce_conflict`, `auth.*`).
    #[error("signer refused ({status}): {} — {}", body.code, body.message)]
    Refused {
        /// HTTP status of the refusal (non-2xx).
        status: u16,
        /// The signer's error envelope: stable `code` and a message for logs.
        body: ErrorBody,
    },
    /// An answer that is neither a signature nor the error envelope (e.g. a proxy's page).
    #[error("unexpected answer from the signer ({status}): {body}")]
    Unexpected {
        /// HTTP status of the answer, possibly 2xx with an unreadable body.
        status: u16,
        /// Raw answer body, lossily decoded as UTF-8, for logs.
        body: String,
    },
}

/// An authenticated caller of the signer service.
#[derive(Clone, Debug)]
pub struct SignerClient {
    base_url: String,
    caller: String,
    secret: SecretString,
    http: reqwest::Client,
    /// The signing endpoints' URLs, parsed once: a parse per request showed in the signer's benchmark profile.
    sign_urls: Arc<[(&'static str, reqwest::Url)]>,
}

const SIGN_PATHS: [&str; 4] =
    [api::REGISTER_PATH, api::RETOPUP_PATH, api::PAYOUT_BATCH_PATH, api::TREASURY_TRANSFER_PATH];

impl SignerClient {
    /// `base_url` like `http://127.0.0.1:8700`; `caller` and `secret` as configured in the signer's `[auth]`.
    pub fn new(base_url: impl Into<String>, caller: impl Into<String>, secret: SecretString) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        // A base URL that does not parse keeps failing the way it always did: at each request.
        let sign_urls = SIGN_PATHS
            .iter()
            .filter_map(|path| Some((*path, reqwest::Url::parse(&format!("{base_url}{path}")).ok()?)))
            .collect();
        SignerClient { base_url, caller: caller.into(), secret, http: reqwest::Client::new(), sign_urls }
    }

    /// The authentication headers for one request, with a random request id; a fresh set is needed for every
    /// attempt (a replayed set is refused).
    pub fn auth_headers(&self, method: &str, path: &str, body: &[u8], timestamp: u64) -> [(&'static str, String); 4] {
        let request_id = hex::encode(rand::random::<[u8; 16]>());
        [
            (CALLER_HEADER, self.caller.clone()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, request_mac(&self.secret, timestamp, &request_id, method, path, body)),
            (REQUEST_ID_HEADER, request_id),
        ]
    }

    /// Asks for a registration payload a user can submit with the fee.
    pub async fn sign_register(&self, intent: &RegisterIntent) -> Result<SignResponse, ClientError> {
        self.sign(api::REGISTER_PATH, intent).await
    }

    /// Asks for a retopup payload a user can submit with the retopup fee.
    pub async fn sign_retopup(&self, intent: &RetopupIntent) -> Result<SignResponse, ClientError> {
        self.sign(api::RETOPUP_PATH, intent).await
    }

    /// Asks for a payout-batch payload; the signer fills in `total` and enforces its caps.
    pub async fn sign_payout_batch(&self, intent: &PayoutBatchIntent) -> Result<SignResponse, ClientError> {
        self.sign(api::PAYOUT_BATCH_PATH, intent).await
    }

    /// Asks for a treasury-transfer payload moving company funds out of custody.
    pub async fn sign_treasury_transfer(&self, intent: &TreasuryTransferIntent) -> Result<SignResponse, ClientError> {
        self.sign(api::TREASURY_TRANSFER_PATH, intent).await
    }

    /// The address the service signs with; the contract accepts only payloads from its `signer`.
    pub async fn signer_address(&self) -> Result<Address, ClientError> {
        let response = self.http.get(format!("{}{}", self.base_url, api::SIGNER_PATH)).send().await?;
        let info: SignerInfo = decode(response).await?;
        Ok(info.address.0)
    }

    /// The signer's policy for `token` on `contract` of `chain_id`, with what its rolling window has used.
    pub async fn policy(&self, chain_id: u64, contract: Address, token: Address) -> Result<AssetPolicy, ClientError> {
        let path = format!("{}?chain_id={chain_id}&contract={contract:#x}&token={token:#x}", api::POLICY_PATH);
        let mut request = self.http.get(format!("{}{path}", self.base_url));
        for (name, value) in self.auth_headers("GET", &path, b"", unix_now()) {
            request = request.header(name, value);
        }
        decode(request.send().await?).await
    }

    /// POSTs an intent with fresh authentication headers.
    pub async fn sign(&self, path: &str, intent: &impl Serialize) -> Result<SignResponse, ClientError> {
        let body = serde_json::to_vec(intent).expect("intents always serialise");
        let request = match self.sign_urls.iter().find(|(known, _)| *known == path) {
            Some((_, url)) => self.http.post(url.clone()),
            None => self.http.post(format!("{}{path}", self.base_url)),
        };
        let mut request = request.header("content-type", "application/json");
        for (name, value) in self.auth_headers("POST", path, &body, unix_now()) {
            request = request.header(name, value);
        }
        decode(request.body(body).send().await?).await
    }
}

async fn decode<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&bytes)
            .map_err(|_| ClientError::Unexpected { status, body: String::from_utf8_lossy(&bytes).into_owned() });
    }
    match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
        Ok(envelope) => Err(ClientError::Refused { status, body: envelope.error }),
        Err(_) => Err(ClientError::Unexpected { status, body: String::from_utf8_lossy(&bytes).into_owned() }),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

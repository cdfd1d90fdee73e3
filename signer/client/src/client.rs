//! Calling the signer from another service (the backend): builds the per-request HMAC headers, and sends the
//! signing calls that are waiting at the same moment together, in one request to [`api::MANY_PATH`].

use std::{
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::primitives::Address;
use secrecy::SecretString;
use serde::Serialize;

use serde_json::value::RawValue;
use tokio::sync::oneshot;

use crate::{
    api::{
        self, AssetPolicy, CallerInfo, ErrorBody, ErrorEnvelope, ManyItem, ManyRequest, ManyResponse, SignResponse,
        SignerInfo,
    },
    auth::{
        CALLER_HEADER, CONTENT_SHA256_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, body_sha256_hex,
        request_mac_for_hash,
    },
    intent::{
        Kind, LiabilityRootIntent, PayoutBatchIntent, RegisterIntent, RetopupIntent, SaleIntent, TreasuryTransferIntent,
    },
};

/// Why a call to the signer produced no signature.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer came back (connection refused, timeout); the signer may or may not have signed. Shared by every
    /// call that went out in the same request.
    #[error("signer unreachable: {0}")]
    Transport(#[source] Arc<reqwest::Error>),
    /// The task sending this call stopped (its runtime shut down) before an answer came back; the signer may or
    /// may not have signed.
    #[error("signer call abandoned: the task sending it stopped")]
    Abandoned,
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

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        ClientError::Transport(Arc::new(e))
    }
}

/// An authenticated caller of the signer service.
///
/// Signing calls made while others are under way are sent together. A call made while nothing else is under way
/// goes at once, on its caller's task; the others wait in a queue, and a sender
/// (at most [`MAX_SENDERS`] at a time, each on a task of its own) takes every call waiting, up to
/// [`api::MAX_MANY`], and sends them as one request to [`api::MANY_PATH`], or a lone call to its own route. The
/// signer decides each exactly as on its own route, so every call gets the answer it would have got alone; what
/// changes is one HTTP exchange and one authentication for many. A caller that gives up waiting (its future is
/// dropped) does not stop the others' request.
#[derive(Clone, Debug)]
pub struct SignerClient {
    base_url: String,
    caller: String,
    secret: SecretString,
    http: reqwest::Client,
    /// The signing endpoints' URLs, parsed once: a parse per request showed in the signer's benchmark profile.
    sign_urls: Arc<[(&'static str, reqwest::Url)]>,
    /// Calls waiting to be sent together; `None` sends each call on its own.
    queue: Option<Arc<Queue>>,
}

const SIGN_PATHS: [(&str, Kind); 6] = [
    (api::REGISTER_PATH, Kind::Register),
    (api::RETOPUP_PATH, Kind::Retopup),
    (api::PAYOUT_BATCH_PATH, Kind::PayoutBatch),
    (api::TREASURY_TRANSFER_PATH, Kind::TreasuryTransfer),
    (api::LIABILITY_ROOT_PATH, Kind::LiabilityRoot),
    (api::SALE_PATH, Kind::Sale),
];

/// Most requests of one client in flight to the signer that carry queued calls; more calls wait and go together.
/// Measured with 8 callers (`cargo bench -p signer --bench sign_throughput`): 8 beat 4, 2 and 1.
pub const MAX_SENDERS: usize = 8;

/// Most bytes of intents sent together: half the signer's request limit ([`api::MAX_BODY_BYTES`]), which leaves
/// room for the 64 `{kind, intent}` wrappers (under 3 KB). A larger intent goes alone, on its own route.
const MANY_BODY_BUDGET: usize = api::MAX_BODY_BYTES / 2;

/// The signing calls waiting to be sent, and how many senders are running.
#[derive(Debug, Default)]
struct Queue(Mutex<Waiting>);

#[derive(Debug, Default)]
struct Waiting {
    calls: Vec<Call>,
    senders: usize,
    /// Calls sent on their callers' own tasks because nothing else was under way (0 or 1).
    alone: usize,
}

/// One signing call, waiting for a sender.
#[derive(Debug)]
struct Call {
    kind: Kind,
    path: &'static str,
    body: Box<RawValue>,
    answer: oneshot::Sender<Result<SignResponse, ClientError>>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a new call may go alone: none is waiting, sending or going alone. Counted until its [`Alone`] drops.
    fn go_alone(&self) -> bool {
        let mut waiting = self.lock();
        let idle = waiting.calls.is_empty() && waiting.senders == 0 && waiting.alone == 0;
        waiting.alone += usize::from(idle);
        idle
    }
}

/// A call going alone, on its caller's task; released when it is answered or its caller stops waiting.
struct Alone(Arc<Queue>);

impl Drop for Alone {
    fn drop(&mut self) {
        self.0.lock().alone -= 1;
    }
}

/// A sender's hold on its queue: released when the sender stops, also if its task is dropped mid-request. A sender
/// dropped that way, if it was the last, answers the calls still waiting with [`ClientError::Abandoned`] rather
/// than leaving them to wait for ever.
struct Sending {
    queue: Arc<Queue>,
    released: bool,
}

impl Drop for Sending {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let mut waiting = self.queue.lock();
        waiting.senders -= 1;
        if waiting.senders == 0 {
            for call in waiting.calls.drain(..) {
                let _ = call.answer.send(Err(ClientError::Abandoned));
            }
        }
    }
}

impl SignerClient {
    /// `base_url` like `http://127.0.0.1:8700`; `caller` and `secret` as configured in the signer's `[auth]`.
    pub fn new(base_url: impl Into<String>, caller: impl Into<String>, secret: SecretString) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        // A base URL that does not parse keeps failing the way it always did: at each request.
        let sign_urls = SIGN_PATHS
            .iter()
            .map(|(path, _)| *path)
            .chain([api::MANY_PATH])
            .filter_map(|path| Some((path, reqwest::Url::parse(&format!("{base_url}{path}")).ok()?)))
            .collect();
        SignerClient {
            base_url,
            caller: caller.into(),
            secret,
            http: reqwest::Client::new(),
            sign_urls,
            queue: Some(Arc::default()),
        }
    }

    /// The same client, sending every signing call in a request of its own (no [`api::MANY_PATH`]).
    pub fn one_request_per_call(mut self) -> Self {
        self.queue = None;
        self
    }

    /// The authentication headers for one request, with a random request id; a fresh set is needed for every
    /// attempt (a replayed set is refused).
    pub fn auth_headers(&self, method: &str, path: &str, body: &[u8], timestamp: u64) -> [(&'static str, String); 5] {
        let request_id = hex::encode(rand::random::<[u8; 16]>());
        let body_sha256 = body_sha256_hex(body);
        [
            (CALLER_HEADER, self.caller.clone()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, request_mac_for_hash(&self.secret, timestamp, &request_id, method, path, &body_sha256)),
            (REQUEST_ID_HEADER, request_id),
            (CONTENT_SHA256_HEADER, body_sha256),
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

    /// Asks for a liability-root payload: the proof of solvency's commitment of one asset's epoch.
    pub async fn sign_liability_root(&self, intent: &LiabilityRootIntent) -> Result<SignResponse, ClientError> {
        self.sign(api::LIABILITY_ROOT_PATH, intent).await
    }

    /// Asks for a sale payload: a buyer's payment for an order, priced by the signer from the signed catalogue
    /// version the intent carries.
    pub async fn sign_sale(&self, intent: &SaleIntent) -> Result<SignResponse, ClientError> {
        self.sign(api::SALE_PATH, intent).await
    }

    /// The address the service signs with; the contract accepts only payloads from its `signer`.
    pub async fn signer_address(&self) -> Result<Address, ClientError> {
        Ok(self.signer_info().await?.address.0)
    }

    /// The address the service signs with and its own node of each chain ([`SignerInfo`]; unauthenticated).
    pub async fn signer_info(&self) -> Result<SignerInfo, ClientError> {
        let response = self.http.get(format!("{}{}", self.base_url, api::SIGNER_PATH)).send().await?;
        decode(response).await
    }

    /// Who the signer takes this client's caller for, and the payload kinds it may ask for ([`CallerInfo`]).
    pub async fn caller_info(&self) -> Result<CallerInfo, ClientError> {
        let mut request = self.http.get(format!("{}{}", self.base_url, api::CALLER_PATH));
        for (name, value) in self.auth_headers("GET", api::CALLER_PATH, b"", unix_now()) {
            request = request.header(name, value);
        }
        decode(request.send().await?).await
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

    /// POSTs an intent with fresh authentication headers: with the calls waiting at the same moment, if this client
    /// sends calls together and `path` is one of the four signing routes; on its own otherwise.
    pub async fn sign(&self, path: &str, intent: &impl Serialize) -> Result<SignResponse, ClientError> {
        let to_vec = || serde_json::to_vec(intent).expect("intents always serialise");
        let (Some(queue), Some(&(path, kind))) = (&self.queue, SIGN_PATHS.iter().find(|(known, _)| *known == path))
        else {
            return self.post(path, to_vec()).await;
        };
        // Nothing else under way: this call goes at once, on this task.
        if queue.go_alone() {
            let _alone = Alone(queue.clone());
            return self.post(path, to_vec()).await;
        }
        let body = serde_json::value::to_raw_value(intent).expect("intents always serialise");
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut waiting = queue.lock();
            waiting.calls.push(Call { kind, path, body, answer });
            let start = waiting.senders < MAX_SENDERS;
            waiting.senders += usize::from(start);
            start
        };
        if start {
            let sending = Sending { queue: queue.clone(), released: false };
            tokio::spawn(self.clone().send_waiting(sending));
        }
        answered.await.unwrap_or(Err(ClientError::Abandoned))
    }

    /// A sender: takes every call waiting and sends them, until none is left.
    async fn send_waiting(self, mut sending: Sending) {
        loop {
            // Callers just answered, or just started, queue their next calls on this thread: let them, so that the
            // next request takes them all.
            tokio::task::yield_now().await;
            let calls: Vec<Call> = {
                let mut waiting = sending.queue.lock();
                if waiting.calls.is_empty() {
                    // Released under the lock that a queued call takes to count the senders.
                    waiting.senders -= 1;
                    drop(waiting);
                    sending.released = true;
                    return;
                }
                let take = sent_together(waiting.calls.iter().map(|call| call.body.get().len()));
                waiting.calls.drain(..take).collect()
            };
            if let [_] = calls.as_slice() {
                let call = calls.into_iter().next().expect("one call");
                let result = self.post(call.path, Box::<str>::from(call.body).into_boxed_bytes().into_vec()).await;
                let _ = call.answer.send(result);
                continue;
            }
            let request =
                ManyRequest { requests: calls.iter().map(|c| ManyItem { kind: c.kind, intent: &*c.body }).collect() };
            let body = serde_json::to_vec(&request).expect("intents always serialise");
            let answers = match self.post::<ManyResponse>(api::MANY_PATH, body).await {
                Ok(many) if many.results.len() == calls.len() => many
                    .results
                    .into_iter()
                    .map(|r| match r {
                        api::ManyResult { status: 200, response: Some(response), .. } => Ok(response),
                        api::ManyResult { status, error: Some(body), .. } if status != 200 => {
                            Err(ClientError::Refused { status, body })
                        }
                        other => Err(ClientError::Unexpected {
                            status: other.status,
                            body: serde_json::to_string(&other).unwrap_or_default(),
                        }),
                    })
                    .collect(),
                Ok(many) => {
                    let error = ClientError::Unexpected {
                        status: 200,
                        body: format!("{} results for {} intents", many.results.len(), calls.len()),
                    };
                    vec![Err(error); calls.len()]
                }
                Err(error) => vec![Err(error); calls.len()],
            };
            for (call, answer) in calls.into_iter().zip(answers) {
                let _ = call.answer.send(answer);
            }
        }
    }

    /// POSTs `body` to `path` with fresh authentication headers, and decodes the answer.
    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str, body: Vec<u8>) -> Result<T, ClientError> {
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

/// How many of the waiting calls, whose intents have these sizes, one request takes: at most [`api::MAX_MANY`] and
/// [`MANY_BODY_BUDGET`] bytes of intents, and always the first.
fn sent_together(sizes: impl Iterator<Item = usize>) -> usize {
    let mut bytes = 0;
    sizes
        .take(api::MAX_MANY)
        .take_while(|size| {
            bytes += size;
            bytes <= MANY_BODY_BUDGET
        })
        .count()
        .max(1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_takes_up_to_max_many_calls_within_the_byte_budget_and_always_one() {
        assert_eq!(sent_together([400; 10].into_iter()), 10);
        assert_eq!(sent_together([400; 100].into_iter()), api::MAX_MANY);
        // 60 KB payout batches: four fit in 256 KiB, the fifth waits for the next request.
        assert_eq!(sent_together([60_000; 8].into_iter()), 4);
        assert_eq!(sent_together([MANY_BODY_BUDGET, 1].into_iter()), 1);
        // An intent over the budget still goes, alone (on its own route).
        assert_eq!(sent_together([MANY_BODY_BUDGET + 1, 1].into_iter()), 1);
        assert_eq!(sent_together([1, MANY_BODY_BUDGET].into_iter()), 1);
    }

    #[test]
    fn the_largest_request_sent_together_fits_the_signers_body_limit() {
        // 64 intents filling the budget exactly, each with the longest kind name.
        let each = MANY_BODY_BUDGET / api::MAX_MANY;
        let intent = RawValue::from_string(format!("\"{}\"", "x".repeat(each - 2))).unwrap();
        let request = ManyRequest {
            requests: (0..api::MAX_MANY).map(|_| ManyItem { kind: Kind::TreasuryTransfer, intent: &*intent }).collect(),
        };
        assert_eq!(sent_together([each; api::MAX_MANY].into_iter()), api::MAX_MANY);
        let body = serde_json::to_vec(&request).unwrap();
        assert!(body.len() <= api::MAX_BODY_BYTES, "{} bytes", body.len());
    }
}

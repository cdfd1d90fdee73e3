//! Starts the service on port 0 with a temporary store and a known caller; talks to it like the backend will.

use std::{
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::primitives::{Address, U256};
use secrecy::SecretString;
use signer::{
    api::{ErrorBody, SignResponse},
    auth::Caller,
    client::{ClientError, SignerClient},
    config::{KeySettings, Settings},
    intent::{Addr, Amount, PayoutBatchIntent, PayoutEntry, RegisterIntent, RetopupIntent, TreasuryTransferIntent},
    key::pkcs11::{HsmKeySpec, TokenRef},
    policy::{AssetConfig, ChainConfig, PolicyConfig},
    store::Store,
};
use tokio::sync::oneshot;

pub(crate) const CHAIN_ID: u64 = 31_337;
/// Where anvil's first deployment by its account 0 lands; the anvil test deploys there.
pub(crate) const CONTRACT: Address = alloy::primitives::address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
pub(crate) const USDT: Address = Address::repeat_byte(0x55);
pub(crate) const TREASURY: Address = Address::repeat_byte(0x7e);
pub(crate) const USER: Address = Address::repeat_byte(0x11);
pub(crate) const SPONSOR: Address = Address::repeat_byte(0x22);
/// anvil's well-known dev key #1 (public knowledge; never a real key).
pub(crate) const DEV_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub(crate) const DEV_ADDRESS: Address = alloy::primitives::address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

/// Set (by `hsm::the_service_suite_passes_with_the_key_in_softhsm2`, which runs this suite again so) to sign every
/// test's payloads with a key generated in a SoftHSM2 token instead of [`DEV_KEY`]; the token is named by
/// `SIGNER_TEST_HSM_{MODULE,TOKEN,KEY,ADDRESS,PIN}` and `SOFTHSM2_CONF`.
pub(crate) const HSM_SUITE: &str = "SIGNER_TEST_KEY_IN_SOFTHSM2";

/// The key every test's signer signs with: [`DEV_KEY`], or the SoftHSM2 key when the suite runs with it.
pub(crate) fn test_key() -> KeySettings {
    match hsm_suite_key() {
        Some(spec) => KeySettings::Pkcs11(spec),
        None => KeySettings::InsecureDevKey(SecretString::from(DEV_KEY)),
    }
}

/// The address the signer signs with: [`DEV_ADDRESS`], or the SoftHSM2 key's when the suite runs with it. The
/// contracts the tests deploy name it as their signer.
pub(crate) fn signer_address() -> Address {
    hsm_suite_key().map_or(DEV_ADDRESS, |spec| spec.address)
}

fn hsm_suite_key() -> Option<HsmKeySpec> {
    std::env::var_os(HSM_SUITE)?;
    let var = |name: &str| std::env::var(format!("SIGNER_TEST_HSM_{name}")).unwrap_or_else(|_| panic!("{name} set"));
    Some(HsmKeySpec {
        module: var("MODULE").into(),
        token: TokenRef::Label(var("TOKEN")),
        key_label: var("KEY"),
        pin: SecretString::from(var("PIN")),
        address: var("ADDRESS").parse().unwrap(),
        sessions: 4,
    })
}

pub(crate) const CALLER: &str = "backend";
pub(crate) const CALLER_SECRET: &str = "test-only-caller-secret-0123456789abcdef";

pub(crate) const PER_PAYLOAD_CAP: u128 = 1_000;
pub(crate) const PER_BATCH_CAP: u128 = 2_500;
pub(crate) const DAILY_OUTFLOW_CAP: u128 = 4_000;
pub(crate) const MAX_BATCH_ENTRIES: usize = 5;
pub(crate) const DEFAULT_TTL: u64 = 600;
pub(crate) const HORIZON: u64 = 3_600;

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

pub(crate) fn policy(chain_id: u64, contract: Address) -> PolicyConfig {
    let caps = |token| AssetConfig {
        token: Addr(token),
        per_payload_cap: Amount::from(PER_PAYLOAD_CAP),
        per_entry_cap: None,
        per_batch_cap: Amount::from(PER_BATCH_CAP),
        daily_outflow_cap: Amount::from(DAILY_OUTFLOW_CAP),
        withdrawal_fee_bps: 0,
        daily_root_fall_cap: Amount::from(0u128),
    };
    PolicyConfig {
        default_ttl_secs: DEFAULT_TTL,
        max_deadline_horizon_secs: HORIZON,
        max_batch_entries: MAX_BATCH_ENTRIES,
        approvals: None,
        catalogue: None,
        chains: vec![ChainConfig {
            chain_id,
            contracts: vec![Addr(contract)],
            wound_down: vec![],
            treasury_recipients: vec![Addr(TREASURY)],
            assets: vec![caps(Address::ZERO), caps(USDT)],
            node: None,
        }],
    }
}

pub(crate) fn settings(store_path: PathBuf) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        store_path,
        key: test_key(),
        next_key: None,
        callers: vec![Caller::new(CALLER, SecretString::from(CALLER_SECRET))],
        auth_window_secs: 30,
        limits: Default::default(),
        policy: policy(CHAIN_ID, CONTRACT),
    }
}

/// A running service; `stop` shuts it down gracefully (closing the store) so it can be started again.
///
/// It runs on a thread and a runtime of its own, which end only when the service has stopped for good (its writer,
/// its store and its key gone): `stop` waits for that, and so does dropping it. So no test ends, and the test process
/// does not exit, while a signer of it still holds a token's sessions — closing one under SoftHSM2's teardown in the
/// process's exit handlers crashed the process after every test had passed (issue 64).
pub(crate) struct TestApp {
    pub base_url: String,
    pub client: SignerClient,
    pub http: reqwest::Client,
    pub store_path: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<Server>,
}

/// Where a [`TestApp`] runs.
enum Server {
    /// A thread and a runtime of its own (`TestApp::spawn`).
    Thread(std::thread::JoinHandle<std::io::Result<()>>),
    /// A task of the test's runtime (`TestApp::spawn_on_this_runtime`): the test must `stop` it.
    Task(tokio::task::JoinHandle<std::io::Result<()>>),
}

impl TestApp {
    pub(crate) async fn spawn(settings: Settings) -> TestApp {
        let store_path = settings.store_path.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let (started_tx, started) = oneshot::channel();
        let server = std::thread::Builder::new()
            .name("test-signer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
                runtime.block_on(async move {
                    let stop = async {
                        let _ = rx.await;
                    };
                    match signer::startup::run_until(settings, stop).await {
                        Ok((address, server)) => {
                            let _ = started_tx.send(Ok(address));
                            server.await
                        }
                        Err(e) => {
                            let _ = started_tx.send(Err(e));
                            Ok(())
                        }
                    }
                })
            })
            .expect("a thread for the service");
        let address = started.await.expect("the service's thread answers").expect("service starts");
        let base_url = format!("http://{address}");
        TestApp {
            client: SignerClient::new(&base_url, CALLER, SecretString::from(CALLER_SECRET)),
            http: reqwest::Client::new(),
            base_url,
            store_path,
            shutdown: Some(tx),
            server: Some(Server::Thread(server)),
        }
    }

    /// As [`TestApp::spawn`], but its tasks run on the test's own runtime (a test that reads what the service logs
    /// on the test's thread). The test must end it with [`TestApp::stop`].
    pub(crate) async fn spawn_on_this_runtime(settings: Settings) -> TestApp {
        let store_path = settings.store_path.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let stop = async {
            let _ = rx.await;
        };
        let (address, server) = signer::startup::run_until(settings, stop).await.expect("service starts");
        let base_url = format!("http://{address}");
        TestApp {
            client: SignerClient::new(&base_url, CALLER, SecretString::from(CALLER_SECRET)),
            http: reqwest::Client::new(),
            base_url,
            store_path,
            shutdown: Some(tx),
            server: Some(Server::Task(tokio::spawn(server))),
        }
    }

    /// A fresh service on its own temporary store (the directory lives as long as the returned guard).
    pub(crate) async fn fresh() -> (TestApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let app = TestApp::spawn(settings(dir.path().join("signer.sqlite"))).await;
        (app, dir)
    }

    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(Server::Thread(thread)) => {
                let ended = tokio::task::spawn_blocking(move || thread.join()).await.unwrap();
                ended.expect("the service's thread ends without panicking").expect("the service stops cleanly");
            }
            Some(Server::Task(task)) => task.await.unwrap().expect("the service stops cleanly"),
            None => {}
        }
    }

    /// Rows in the double-sign record, read through a separate connection.
    pub(crate) async fn signed_count(&self) -> u64 {
        let store = Store::open(&self.store_path).await.unwrap();
        store.count_signed().await.unwrap()
    }

    /// POSTs raw bytes with correct authentication headers (for malformed bodies the typed client cannot send).
    pub(crate) async fn post_raw(&self, path: &str, body: &[u8]) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base_url)).body(body.to_vec());
        for (name, value) in self.client.auth_headers("POST", path, body, now()) {
            request = request.header(name, value);
        }
        request.send().await.unwrap()
    }
}

impl Drop for TestApp {
    /// Stops the service and waits until it has (see [`TestApp`]): its thread needs nothing of the test's runtime.
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let panicking = std::thread::panicking();
        match self.server.take() {
            Some(Server::Thread(thread)) => {
                let ended = thread.join();
                if !panicking {
                    ended.expect("the service's thread ends without panicking").expect("the service stops cleanly");
                }
            }
            Some(Server::Task(_)) if !panicking => panic!("a service on the test's runtime must be stopped (stop())"),
            _ => {}
        }
    }
}

/// `signer_requests_total{kind, outcome}` as the service's `/metrics` shows it now.
pub(crate) async fn metric(app: &TestApp, kind: &str, outcome: &str) -> u64 {
    let text = app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap();
    let series = format!("signer_requests_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&series)).map_or(0, |n| n.parse().unwrap())
}

/// The address `response`'s signature recovers to, over its digest.
pub(crate) fn recovered(response: &SignResponse) -> Address {
    assert_eq!(response.signature.len(), 65);
    assert!(matches!(response.signature[64], 27 | 28), "v must be 27 or 28");
    let signature = alloy::primitives::Signature::try_from(response.signature.as_ref()).unwrap();
    signature.recover_address_from_prehash(&response.digest).unwrap()
}

/// The EIP-712 digest of the `Registration` that `register(amount, …)` asks for, on `response`'s nonce and deadline.
pub(crate) fn registration_digest(amount: u128, response: &SignResponse) -> alloy::primitives::B256 {
    let payload = abi::Registration {
        user: USER,
        sponsor: SPONSOR,
        token: Address::ZERO,
        amount: U256::from(amount),
        nonce: response.nonce.0,
        deadline: U256::from(response.deadline),
    };
    abi::SettlementDomain::new(CHAIN_ID, CONTRACT).digest(&payload)
}

/// The refusal code and status of a client call that must fail.
pub(crate) fn refusal(result: Result<SignResponse, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Refused { status, body: ErrorBody { code, .. } }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub(crate) fn register(amount: u128, nonce: Option<u64>) -> RegisterIntent {
    RegisterIntent {
        chain_id: CHAIN_ID,
        contract: Addr(CONTRACT),
        user: Addr(USER),
        sponsor: Addr(SPONSOR),
        token: Addr(Address::ZERO),
        amount: Amount::from(amount),
        nonce: nonce.map(|n| Amount(U256::from(n))),
        deadline: None,
    }
}

pub(crate) fn retopup(amount: u128, nonce: Option<u64>) -> RetopupIntent {
    RetopupIntent {
        chain_id: CHAIN_ID,
        contract: Addr(CONTRACT),
        user: Addr(USER),
        token: Addr(USDT),
        amount: Amount::from(amount),
        nonce: nonce.map(|n| Amount(U256::from(n))),
        deadline: None,
    }
}

/// A payout batch of USDT; `nonce` is the batch's id: its nonce is `abi::nonces::batch_nonce` of it (attempt 0).
pub(crate) fn payout_batch(amounts: &[u128], nonce: Option<u64>) -> PayoutBatchIntent {
    PayoutBatchIntent {
        chain_id: CHAIN_ID,
        contract: Addr(CONTRACT),
        token: Addr(USDT),
        payouts: amounts
            .iter()
            .enumerate()
            .map(|(i, a)| PayoutEntry {
                recipient: Addr(Address::with_last_byte(i as u8 + 1)),
                amount: Amount::from(*a),
            })
            .collect(),
        total: None,
        nonce: nonce.map(|n| Amount(abi::nonces::batch_nonce(n, 0))),
        deadline: None,
        approvals: Vec::new(),
    }
}

/// A treasury transfer; `nonce` is the transfer's id: its nonce is `abi::nonces::treasury_nonce` of it.
pub(crate) fn treasury_transfer(to: Address, amount: u128, nonce: Option<u64>) -> TreasuryTransferIntent {
    TreasuryTransferIntent {
        chain_id: CHAIN_ID,
        contract: Addr(CONTRACT),
        token: Addr(USDT),
        to: Addr(to),
        amount: Amount::from(amount),
        nonce: nonce.map(|n| Amount(abi::nonces::treasury_nonce(n))),
        deadline: None,
        refund_of: None,
        approvals: Vec::new(),
    }
}

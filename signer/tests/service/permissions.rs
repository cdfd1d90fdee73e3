//! Per-caller permissions: a caller configured with `kinds` gets 403 `policy.caller_not_permitted` for any other
//! kind, nothing is recorded (no row, no nonce, no outflow), the refusal is audit-logged and counted; the kinds it
//! may ask for are still signed. A config naming an unknown kind does not load.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use secrecy::SecretString;
use signer::{
    api::{ErrorEnvelope, PAYOUT_BATCH_PATH},
    auth::Caller,
    client::SignerClient,
    config::{ConfigError, Env, FileConfig, Settings},
    intent::Kind,
};

use crate::support::*;

const TREASURY_CALLER: &str = "treasury-ops";
const TREASURY_SECRET: &str = "test-only-treasury-secret-0123456789abcdef";

/// Secrets come from here instead of the process environment.
struct TestEnv;

impl Env for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "T_DEV_KEY" => Some(DEV_KEY.into()),
            "T_BACKEND_SECRET" => Some(CALLER_SECRET.into()),
            "T_TREASURY_SECRET" => Some(TREASURY_SECRET.into()),
            _ => None,
        }
    }
}

/// A config file as an operator writes it, with the given `[auth]` callers, loaded and resolved.
fn load(dir: &std::path::Path, callers: &str) -> Result<Settings, ConfigError> {
    let path = dir.join("signer.toml");
    let toml = format!(
        r#"
[store]
path = "{store}"

[key]
insecure_dev_key = {{ env = "T_DEV_KEY" }}

[auth]
callers = [
{callers}
]

[policy]
default_ttl_secs = 600
max_deadline_horizon_secs = 3600
max_batch_entries = 5
"#,
        store = dir.join("signer.sqlite").display()
    );
    std::fs::write(&path, toml).unwrap();
    FileConfig::load(&path)?.resolve(&TestEnv, true)
}

/// The real config path for `[auth]`, with the test policy (anvil chain, `CONTRACT`, `USDT` caps).
fn limited_settings(dir: &std::path::Path) -> Settings {
    let mut settings = load(
        dir,
        r#"    { id = "backend", secret = { env = "T_BACKEND_SECRET" }, kinds = ["register", "retopup"] },
    { id = "treasury-ops", secret = { env = "T_TREASURY_SECRET" }, kinds = ["treasury-transfer"] },"#,
    )
    .expect("config loads");
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.policy = policy(CHAIN_ID, CONTRACT);
    settings.key = test_key();
    settings
}

#[tokio::test]
async fn each_caller_reads_its_own_kinds_and_a_stranger_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(limited_settings(dir.path())).await;
    let backend = app.client.caller_info().await.unwrap();
    assert_eq!((backend.caller.as_str(), backend.kinds.as_slice()), ("backend", &[Kind::Register, Kind::Retopup][..]));
    let treasury = SignerClient::new(&app.base_url, TREASURY_CALLER, SecretString::from(TREASURY_SECRET));
    let treasury = treasury.caller_info().await.unwrap();
    assert_eq!((treasury.caller.as_str(), treasury.kinds.as_slice()), (TREASURY_CALLER, &[Kind::TreasuryTransfer][..]));
    // A wrong secret is told nothing but that it failed.
    let stranger = SignerClient::new(&app.base_url, TREASURY_CALLER, SecretString::from(CALLER_SECRET));
    let refused = stranger.caller_info().await.unwrap_err();
    assert!(
        matches!(&refused, signer::client::ClientError::Refused { status: 401, body } if body.code == "auth.failed"),
        "{refused:?}"
    );
    // A caller configured without `kinds` may ask for every one.
    let (all, _dir) = TestApp::fresh().await;
    assert_eq!(all.client.caller_info().await.unwrap().kinds, Kind::ALL.to_vec());
}

#[tokio::test]
async fn only_callers_permitted_outflows_may_read_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(limited_settings(dir.path())).await;
    let refused = app.client.policy(CHAIN_ID, CONTRACT, USDT).await.unwrap_err();
    assert!(
        matches!(&refused, signer::client::ClientError::Refused { status: 403, body } if body.code == "policy.caller_not_permitted"),
        "{refused:?}"
    );
    let treasury = SignerClient::new(&app.base_url, TREASURY_CALLER, SecretString::from(TREASURY_SECRET));
    let policy = treasury.policy(CHAIN_ID, CONTRACT, USDT).await.unwrap();
    assert_eq!(policy.per_batch_cap, signer::intent::Amount::from(PER_BATCH_CAP));
}

#[tokio::test]
async fn a_caller_limited_to_register_and_retopup_is_refused_outflows_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(limited_settings(dir.path())).await;
    let backend = &app.client;
    let treasury = SignerClient::new(&app.base_url, TREASURY_CALLER, SecretString::from(TREASURY_SECRET));

    // Outflows from the register/retopup caller: 403 with the stable code, whatever the amounts or nonce.
    for nonce in [None, Some(1)] {
        assert_eq!(
            refusal(backend.sign_treasury_transfer(&treasury_transfer(TREASURY, 1_000, nonce)).await),
            (403, "policy.caller_not_permitted".into())
        );
        assert_eq!(
            refusal(backend.sign_payout_batch(&payout_batch(&[1_000, 1_000, 500], nonce)).await),
            (403, "policy.caller_not_permitted".into())
        );
    }
    // Checked before the body is parsed: even a malformed batch gets the permission refusal, not 422.
    let response = app.post_raw(PAYOUT_BATCH_PATH, b"{\"not\": \"a batch\"}").await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(response.json::<ErrorEnvelope>().await.unwrap().error.code, "policy.caller_not_permitted");
    // And the treasury caller may not register users.
    assert_eq!(refusal(treasury.sign_register(&register(1, None)).await), (403, "policy.caller_not_permitted".into()));

    assert_eq!(app.signed_count().await, 0, "a refused request leaves no row in the double-sign record");
    assert_eq!(metric(&app, "treasury_transfer", "policy.caller_not_permitted").await, 2);
    assert_eq!(metric(&app, "payout_batch", "policy.caller_not_permitted").await, 3);
    assert_eq!(metric(&app, "register", "policy.caller_not_permitted").await, 1);

    // The permitted kinds still work for the same caller; the refused nonce 1 was never taken.
    let signed = backend.sign_register(&register(PER_PAYLOAD_CAP, Some(1))).await.unwrap();
    assert_eq!((signed.kind, signed.nonce.0.to::<u64>()), (Kind::Register, 1));
    assert_eq!(signed.signer.0, signer_address());
    backend.sign_retopup(&retopup(1, None)).await.unwrap();
    assert_eq!(app.signed_count().await, 2);

    // The refused 2 × 1 000 transfers and 2 × 2 500 batches counted no outflow: the treasury caller can still
    // use the whole daily cap (4 × 1 000 = 4 000), and not one unit more.
    for transfer in 0..(DAILY_OUTFLOW_CAP / 1_000) as u64 {
        let signed =
            treasury.sign_treasury_transfer(&treasury_transfer(TREASURY, 1_000, Some(transfer))).await.unwrap();
        assert_eq!(signed.kind, Kind::TreasuryTransfer);
    }
    assert_eq!(
        refusal(treasury.sign_treasury_transfer(&treasury_transfer(TREASURY, 1, Some(99))).await),
        (403, "policy.daily_outflow_cap".into())
    );
    assert_eq!(app.signed_count().await, 6);
    assert_eq!(metric(&app, "register", "signed").await, 1);
    assert_eq!(metric(&app, "treasury_transfer", "signed").await, 4);
    app.stop().await;
}

/// Collects what the service logs, as the JSON lines `telemetry::init` writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go; nowhere when `None`.
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// The global subscriber's writer: the current thread's capture, if it has one.
struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(c) = &*c.borrow() {
                c.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures what this thread logs from now on. One *global* subscriber serves every test thread: a thread-local
/// one (`set_default`) loses events when another test thread first reaches a callsite while it is being set
/// (the callsite's interest is then cached as "never"), which made this test fail now and then.
fn capture_this_thread() -> Captured {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(|| ThreadCapture)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in this test binary");
    });
    // A callsite registered while the global subscriber was being set may have cached "never": ask them all again.
    tracing::callsite::rebuild_interest_cache();
    let captured = Captured::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(captured.clone()));
    captured
}

#[tokio::test]
async fn a_refused_kind_is_audit_logged_like_every_other_decision() {
    // The test runtime is single-threaded, so the server's tasks log on this thread.
    let captured = capture_this_thread();

    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_on_this_runtime(limited_settings(dir.path())).await;
    let (status, code) = refusal(app.client.sign_treasury_transfer(&treasury_transfer(TREASURY, 7, Some(9))).await);
    assert_eq!((status, code.as_str()), (403, "policy.caller_not_permitted"));
    app.stop().await;

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let audits: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["target"] == "signer::audit")
        .collect();
    assert_eq!(audits.len(), 1, "{text}");
    let fields = &audits[0]["fields"];
    assert_eq!(audits[0]["level"], "WARN");
    assert_eq!(fields["caller"], CALLER);
    assert_eq!(fields["kind"], "treasury_transfer");
    assert_eq!(fields["decision"], "refused");
    assert_eq!(fields["rule"], "policy.caller_not_permitted");
    assert!(fields["detail"].as_str().unwrap().contains("may not ask for treasury_transfer"), "{fields}");
}

#[test]
fn a_config_naming_an_unknown_or_no_kind_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let caller =
        |kinds: &str| format!(r#"{{ id = "backend", secret = {{ env = "T_BACKEND_SECRET" }}, kinds = {kinds} }}"#);

    let error = load(dir.path(), &caller(r#"["register", "payout"]"#)).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, ConfigError::Parse { .. }), "{message}");
    assert!(message.contains("unknown payload kind \"payout\""), "{message}");
    assert!(message.contains("register, retopup, payout_batch, treasury_transfer"), "{message}");

    // Names are exact: no case folding, no plural, no wildcard.
    for bad in [r#"["Register"]"#, r#"["registers"]"#, r#"["*"]"#, r#"["all"]"#, r#"[""]"#] {
        let message = load(dir.path(), &caller(bad)).unwrap_err().to_string();
        assert!(message.contains("unknown payload kind"), "{bad}: {message}");
    }
    // An empty list is not "all": it is refused rather than guessed at.
    let message = load(dir.path(), &caller("[]")).unwrap_err().to_string();
    assert!(message.contains("lists no payload kind"), "{message}");
    // Not a list of names.
    assert!(matches!(load(dir.path(), &caller(r#""register""#)), Err(ConfigError::Parse { .. })));
    assert!(matches!(load(dir.path(), &caller("[1]")), Err(ConfigError::Parse { .. })));

    // A caller listed twice would leave its secret and kinds to the order of entries.
    let twice = format!("{},\n{}", caller(r#"["register"]"#), caller(r#"["treasury_transfer"]"#));
    let message = load(dir.path(), &twice).unwrap_err().to_string();
    assert!(message.contains("caller backend is listed twice"), "{message}");

    // Both spellings of a kind are accepted; without `kinds` a caller may ask for every kind (existing configs).
    let settings = load(dir.path(), &caller(r#"["payout_batch", "treasury-transfer"]"#)).unwrap();
    let permissions = settings.callers[0].permissions;
    assert_eq!(permissions.kinds().collect::<Vec<_>>(), [Kind::PayoutBatch, Kind::TreasuryTransfer]);
    let all = load(dir.path(), r#"{ id = "backend", secret = { env = "T_BACKEND_SECRET" } }"#).unwrap();
    assert_eq!(all.callers[0].permissions.kinds().collect::<Vec<_>>(), Kind::ALL);
    assert_eq!(all.callers[0].permissions, Caller::new("x", SecretString::from("y")).permissions);
}

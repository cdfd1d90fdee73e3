//! Authentication: every failure before the MAC verifies gets one answer (the reason goes to the audit log and the
//! metric only), a request whose headers do not authenticate has its body left unread, a caller with a short secret
//! stops the start, and nothing unauthenticated is signed or stored.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use secrecy::SecretString;
use signer::{
    api::{ErrorEnvelope, MAX_BODY_BYTES, REGISTER_PATH},
    auth::{
        CALLER_HEADER, CONTENT_SHA256_HEADER, Caller, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
        body_sha256_hex, request_mac,
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::support::*;

type Headers = Vec<(&'static str, String)>;

/// The five headers of `caller` signing `body` for the register route with `secret` at `timestamp`.
fn signed_as(caller: &str, secret: &str, timestamp: u64, request_id: &str, body: &[u8]) -> Headers {
    vec![
        (CALLER_HEADER, caller.to_owned()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (REQUEST_ID_HEADER, request_id.to_owned()),
        (
            SIGNATURE_HEADER,
            request_mac(&SecretString::from(secret), timestamp, request_id, "POST", REGISTER_PATH, body),
        ),
        (CONTENT_SHA256_HEADER, body_sha256_hex(body)),
    ]
}

fn headers(caller: &str, secret: &str, timestamp: u64, body: &[u8]) -> Headers {
    signed_as(caller, secret, timestamp, "req-1", body)
}

/// `headers` with `name` set to `value` instead.
fn with(mut headers: Headers, name: &'static str, value: impl Into<String>) -> Headers {
    headers.retain(|(n, _)| *n != name);
    headers.push((name, value.into()));
    headers
}

fn without(mut headers: Headers, name: &'static str) -> Headers {
    headers.retain(|(n, _)| *n != name);
    headers
}

/// Status and exact body text of a POST of `body` to the register route.
async fn answer(app: &TestApp, headers: &Headers, body: &[u8]) -> (u16, String) {
    let mut request = app.http.post(format!("{}{REGISTER_PATH}", app.base_url)).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn every_failure_before_the_mac_verifies_gets_the_very_same_answer() {
    let (app, _dir) = TestApp::fresh().await;
    let body = serde_json::to_vec(&register(1, Some(1))).unwrap();
    let other = serde_json::to_vec(&register(2, Some(1))).unwrap();
    let genuine = || headers(CALLER, CALLER_SECRET, now(), &body);
    let as_long_as_a_secret = "not-the-secret-but-as-long-as-one-is";
    let cases: Vec<(&str, Headers, &str)> = vec![
        ("unknown caller", headers("mallory", CALLER_SECRET, now(), &body), "auth.unknown_caller"),
        ("wrong secret", headers(CALLER, as_long_as_a_secret, now(), &body), "auth.bad_signature"),
        ("stale timestamp", headers(CALLER, CALLER_SECRET, now() - 45, &body), "auth.stale_timestamp"),
        ("future timestamp", headers(CALLER, CALLER_SECRET, now() + 45, &body), "auth.stale_timestamp"),
        ("request id with a dot", signed_as(CALLER, CALLER_SECRET, now(), "req.1", &body), "auth.malformed_headers"),
        (
            "request id too long",
            signed_as(CALLER, CALLER_SECRET, now(), &"r".repeat(65), &body),
            "auth.malformed_headers",
        ),
        ("timestamp not a number", with(genuine(), TIMESTAMP_HEADER, "yesterday"), "auth.malformed_headers"),
        ("signature not hex", with(genuine(), SIGNATURE_HEADER, "zz"), "auth.malformed_headers"),
        ("caller id of 4 KiB", with(genuine(), CALLER_HEADER, "b".repeat(4096)), "auth.malformed_headers"),
        ("caller header twice", [genuine(), vec![(CALLER_HEADER, CALLER.into())]].concat(), "auth.malformed_headers"),
        ("no signature", without(genuine(), SIGNATURE_HEADER), "auth.missing_headers"),
        ("no body hash", without(genuine(), CONTENT_SHA256_HEADER), "auth.missing_headers"),
        ("no headers at all", vec![], "auth.missing_headers"),
        // The hash header swapped for this body's: the MAC, made over the other body, does not cover it.
        (
            "MAC over another body",
            with(headers(CALLER, CALLER_SECRET, now(), &other), CONTENT_SHA256_HEADER, body_sha256_hex(&body)),
            "auth.bad_signature",
        ),
        // Headers made for another body, sent with this one: they verify, the body does not match them.
        ("body other than signed", headers(CALLER, CALLER_SECRET, now(), &other), "auth.body_mismatch"),
    ];
    let first = answer(&app, &cases[0].1, &body).await;
    assert_eq!(first.0, 401);
    let error = serde_json::from_str::<ErrorEnvelope>(&first.1).unwrap().error;
    assert_eq!((error.code.as_str(), error.message.as_str()), ("auth.failed", "authentication failed"));
    for (name, headers, reason) in &cases {
        let counted = metric(&app, "any", reason).await;
        assert_eq!(answer(&app, headers, &body).await, first, "{name}: status and body must be the same");
        // The real reason is kept where only the operator looks.
        assert_eq!(metric(&app, "any", reason).await, counted + 1, "{name}: counted as {reason}");
    }
    assert_eq!(app.signed_count().await, 0, "no refused request may reach the store");

    // The genuine request succeeds once; the identical replay is refused, and told so (only a MAC that verified
    // gets that far).
    let genuine = genuine();
    assert_eq!(answer(&app, &genuine, &body).await.0, 200);
    let replayed = answer(&app, &genuine, &body).await;
    assert_eq!(replayed.0, 401);
    assert_eq!(serde_json::from_str::<ErrorEnvelope>(&replayed.1).unwrap().error.code, "auth.replayed");
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_obtained_a_signature_cannot_be_replayed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signer.sqlite");
    let app = TestApp::spawn(settings(path.clone())).await;
    // No nonce: a replay, if accepted, would allocate a second nonce and yield a second valid authorisation.
    let body = serde_json::to_vec(&register(1, None)).unwrap();
    let captured = headers(CALLER, CALLER_SECRET, now(), &body);
    assert_eq!(answer(&app, &captured, &body).await.0, 200);
    app.stop().await;

    let app = TestApp::spawn(settings(path)).await;
    let (status, text) = answer(&app, &captured, &body).await;
    assert_eq!(
        (status, serde_json::from_str::<ErrorEnvelope>(&text).unwrap().error.code),
        (401, "auth.replayed".into())
    );
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

/// Sends a request head promising `content_length` bytes and then only `sent` of them; returns what arrives within
/// `within`, or `None` when the signer is still waiting for the rest.
async fn promise_a_body(
    stream: &mut TcpStream,
    headers: &Headers,
    content_length: usize,
    sent: &[u8],
    within: Duration,
) -> Option<String> {
    let mut request = format!(
        "POST {REGISTER_PATH} HTTP/1.1\r\nHost: signer\r\nContent-Type: application/json\r\nContent-Length: \
         {content_length}\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(sent);
    stream.write_all(&bytes).await.unwrap();
    read_answer(stream, within).await
}

/// One HTTP answer read from `stream` (head and its `Content-Length` body), or `None` if it is not complete within
/// `within`.
async fn read_answer(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut answer = Vec::new();
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|n| n.parse().unwrap()))
                .unwrap_or(0);
            if body.len() >= length {
                return Some(text);
            }
        }
        let mut chunk = [0; 4096];
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(text),
            Ok(Ok(n)) => answer.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn a_request_whose_headers_do_not_authenticate_is_answered_without_its_body_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = settings(dir.path().join("signer.sqlite"));
    // Far beyond the test's patience: an answer in time cannot come from the request timeout.
    config.limits.request_timeout_secs = 120;
    let app = TestApp::spawn(config).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let promised = vec![b' '; MAX_BODY_BYTES];
    let started = b"{\"chain_id\":";
    let strangers: Vec<(&str, Headers)> = vec![
        ("unknown caller", headers("mallory", CALLER_SECRET, now(), &promised)),
        ("wrong secret", headers(CALLER, "not-the-secret-but-as-long-as-one-is", now(), &promised)),
        ("stale timestamp", headers(CALLER, CALLER_SECRET, now() - 45, &promised)),
        ("bad request id", signed_as(CALLER, CALLER_SECRET, now(), "req.1", &promised)),
        ("no headers", vec![]),
    ];
    for (name, headers) in &strangers {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let at = Instant::now();
        let text = promise_a_body(&mut stream, headers, MAX_BODY_BYTES, started, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("{name}: the signer waited for a body it must not read"));
        assert!(text.starts_with("HTTP/1.1 401"), "{name}: {text}");
        assert!(text.contains("\"auth.failed\""), "{name}: {text}");
        assert!(text.to_ascii_lowercase().contains("connection: close"), "{name}: {text}");
        assert!(at.elapsed() < Duration::from_secs(5), "{name}");
    }

    // The same head from the caller itself is authenticated, and then its body is waited for and read.
    let body = serde_json::to_vec(&register(1, Some(7))).unwrap();
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let genuine = headers(CALLER, CALLER_SECRET, now(), &body);
    let early = promise_a_body(&mut stream, &genuine, body.len(), first, Duration::from_millis(500)).await;
    assert_eq!(early, None, "an authenticated head waits for its body");
    stream.write_all(rest).await.unwrap();
    let text = read_answer(&mut stream, Duration::from_secs(10)).await.expect("answered once the body is in");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // An authenticated head promising more than the limit is refused without its body being read.
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let genuine = headers(CALLER, CALLER_SECRET, now(), &promised);
    let text = promise_a_body(&mut stream, &genuine, MAX_BODY_BYTES + 1, started, Duration::from_secs(5))
        .await
        .expect("refused without waiting for the body");
    assert!(text.starts_with("HTTP/1.1 413") && text.contains("body_too_large"), "{text}");
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_caller_with_a_secret_shorter_than_32_bytes_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = settings(dir.path().join("signer.sqlite"));
    config.callers.push(Caller::new("treasury-ops", SecretString::from("x".repeat(31))));
    let Err(error) = signer::startup::run(config.clone()).await else {
        panic!("a signer with a 31-byte secret started")
    };
    let error = error.to_string();
    assert!(
        error.contains("\"treasury-ops\"") && error.contains("31 bytes") && error.contains("at least 32"),
        "{error}"
    );
    assert!(!dir.path().join("signer.sqlite").exists(), "refused before anything was opened");

    // The binary, from a config file with the secret in the environment: it exits at once, naming the caller.
    let toml = format!(
        r#"
[store]
path = "{store}"
[key]
insecure_dev_key = {{ env = "T_DEV_KEY" }}
[auth]
callers = [{{ id = "backend", secret = {{ env = "T_BACKEND_SECRET" }} }}]
[policy]
default_ttl_secs = 600
max_deadline_horizon_secs = 3600
max_batch_entries = 5
"#,
        store = dir.path().join("signer.sqlite").display()
    );
    let config_path = dir.path().join("signer.toml");
    std::fs::write(&config_path, toml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_signer"))
        .args(["--config", config_path.to_str().unwrap(), "--insecure-dev-key"])
        .env("T_DEV_KEY", DEV_KEY)
        .env("T_BACKEND_SECRET", "sixteen-byte-key")
        .env("SIGNER_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the signer started with a 16-byte caller secret");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    // Refused: an exit code, not a crash.
    assert!(status.code().is_some_and(|code| code != 0), "the refused start ended with {status}: {stderr}");
    assert!(stderr.contains("caller \"backend\": its secret is 16 bytes; at least 32"), "{stderr}");

    // 32 bytes are enough.
    let mut config = settings(dir.path().join("signer.sqlite"));
    config.callers.push(Caller::new("treasury-ops", SecretString::from("x".repeat(32))));
    TestApp::spawn(config).await.stop().await;
}

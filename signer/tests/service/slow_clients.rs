//! A client that stalls in the middle of its request is cut off within the configured time and holds nothing:
//! `/health` answers throughout.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

#[tokio::test]
async fn stalled_requests_are_closed_in_time_while_health_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = settings(dir.path().join("signer.sqlite"));
    config.limits.header_read_timeout_secs = 1;
    config.limits.request_timeout_secs = 2;
    let app = TestApp::spawn(config).await;
    let addr = app.base_url.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"POST /v1/sign/register HTTP/1.1\r\nHost: signer\r\n").await.unwrap();
        stalled.push(stream);
    }
    let mut slow_body = TcpStream::connect(&addr).await.unwrap();
    slow_body
        .write_all(b"POST /v1/sign/register HTTP/1.1\r\nHost: signer\r\nContent-Length: 500\r\n\r\n{\"chain_id\"")
        .await
        .unwrap();
    // Each probe on a connection of its own: a kept-alive socket idle past the 1 s limit is closed by the server,
    // as it should be, and a client reusing it at that moment would see the close, not the server's answer.
    let health = app.http.get(format!("{}/health", app.base_url)).header("connection", "close").send().await.unwrap();
    assert_eq!(health.status(), 200, "health answers while clients stall");
    for stream in &mut stalled {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("a stalled head is closed in time")
            .ok();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(8), slow_body.read_to_end(&mut answer))
        .await
        .expect("a stalled body is answered in time")
        .ok();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408") || text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(8));
    let health = app.http.get(format!("{}/health", app.base_url)).header("connection", "close").send().await.unwrap();
    assert_eq!(health.status(), 200, "health answers once the stalled clients are gone");
}

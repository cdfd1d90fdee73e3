//! Slow and excess clients: a request head that never ends is cut off after the header timeout, a body that
//! stalls is answered 408 after the request timeout, connections beyond the limit wait for a free slot, and
//! `/health` answers throughout.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_app_configured;

const REDIS: &str = "redis://127.0.0.1:6379";

/// What the server sends before it closes `stream`, within `limit`.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection in time")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn stalled_heads_and_bodies_are_cut_off_in_time_while_health_answers() {
    let app = spawn_app_configured(REDIS, |s| {
        s.application.limits.header_read_timeout_secs = 1;
        s.application.limits.request_timeout_secs = 2;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    // Forty clients that stop in the middle of their request head.
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: api.test\r\n").await.unwrap();
        stalled.push(stream);
    }
    // One that sends a whole head and stops in the middle of its body.
    let mut slow_body = TcpStream::connect(&addr).await.unwrap();
    let head = "POST /v1/auth/nonce HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"address\": \"0x";
    slow_body.write_all(head.as_bytes()).await.unwrap();

    assert_eq!(app.get("/health", None).await.status, 200, "health answers while forty clients stall");
    for stream in &mut stalled {
        let text = until_closed(stream, Duration::from_secs(5)).await;
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "a stalled head got: {text}");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "stalled heads held {:?}", started.elapsed());
    let text = until_closed(&mut slow_body, Duration::from_secs(8)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "a stalled body got: {text}");
    assert!(started.elapsed() >= Duration::from_millis(1_500), "not cut before the request timeout");
    assert_eq!(app.get("/health", None).await.status, 200);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let app = spawn_app_configured(REDIS, |s| {
        s.application.limits.header_read_timeout_secs = 1;
        s.application.limits.max_connections = 3;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
        stalled.push(stream);
    }
    // Let the server take all three before the fourth client asks.
    tokio::task::yield_now().await;
    let started = Instant::now();
    let health = app.send(app.client.get(format!("{}/health", app.base)).header("connection", "close")).await;
    let waited = started.elapsed();
    assert_eq!(health.status, 200);
    assert!(waited >= Duration::from_millis(500), "served at once although every slot was taken ({waited:?})");
    assert!(waited < Duration::from_secs(5), "a slot freed when a stalled head was cut ({waited:?})");
}

//! An alert receiver on loopback: keeps every JSON body POSTed to it, with the path it came to, and answers a
//! status the test can change (to play a receiver that is down).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;

use crate::loopback::{Answer, LoopbackServer};

#[derive(Default)]
struct InboxState {
    received: Mutex<Vec<(String, Value)>>,
    status: Mutex<u16>,
}

/// A running receiver; dropping it stops the server.
pub struct WebhookInbox {
    /// `http://127.0.0.1:PORT`; POST to `{url}/{sink}`.
    pub url: String,
    state: Arc<InboxState>,
    _server: LoopbackServer,
}

impl WebhookInbox {
    /// Answers 200 to every POST.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_delay(Duration::ZERO).await
    }

    /// As [`start`](Self::start), each answer held for `delay` first (a slow receiver).
    pub async fn start_with_delay(delay: Duration) -> std::io::Result<Self> {
        let state = Arc::new(InboxState { received: Mutex::default(), status: Mutex::new(200) });
        let shared = state.clone();
        let server = LoopbackServer::start(move |req| {
            let state = shared.clone();
            async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let status = *state.status.lock().expect("inbox lock");
                let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                    return Answer::text(400, "not JSON");
                };
                if req.method != "POST" {
                    return Answer::text(405, "POST only");
                }
                if (200..300).contains(&status) {
                    let sink = req.path.trim_start_matches('/').to_owned();
                    state.received.lock().expect("inbox lock").push((sink, body));
                }
                Answer::text(status, "")
            }
        })
        .await?;
        Ok(Self { url: server.url(), state, _server: server })
    }

    /// From now on every POST is answered `status` (kept only when it is a 2xx).
    pub fn set_status(&self, status: u16) {
        *self.state.status.lock().expect("inbox lock") = status;
    }

    /// Every body kept so far, in arrival order, with the path (without its leading `/`) it was posted to.
    pub fn received(&self) -> Vec<(String, Value)> {
        self.state.received.lock().expect("inbox lock").clone()
    }
}

impl WebhookInbox {
    /// Every body kept so far (as [`received`](Self::received)), emptying the inbox.
    pub fn take(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut *self.state.received.lock().expect("inbox lock"))
    }
}

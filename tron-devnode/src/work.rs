//! Where the node's CPU-bound work runs. Anything one request can make take more than about a millisecond —
//! parsing or writing a large JSON text, decoding a large protobuf message (`codec`), hashing a transaction and
//! recovering its signer — runs on tokio's blocking threads, so that the accept loops and every other request
//! keep being answered while one request is at its worst case. Small work stays inline: a thread hop costs more.

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// JSON text up to this many bytes is parsed or written inline: at its worst (every byte a token) that is a
/// fraction of a millisecond even in a debug build.
pub(crate) const INLINE_JSON_BYTES: usize = 16 * 1024;

/// Runs `f` on a blocking thread and waits for it; a panic in `f` resumes here.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("blocking work did not finish: {e}"),
    }
}

/// Parses JSON text, off the async workers when it is large.
pub(crate) async fn parse_json<T: DeserializeOwned + Send + 'static>(text: Bytes) -> serde_json::Result<T> {
    if text.len() <= INLINE_JSON_BYTES {
        serde_json::from_slice(&text)
    } else {
        blocking(move || serde_json::from_slice(&text)).await
    }
}

/// Writes a JSON value as text, off the async workers when it is large.
pub(crate) async fn write_json(value: Value) -> Vec<u8> {
    let write = |value: Value| serde_json::to_vec(&value).expect("a JSON value always serialises");
    if fits(&value, INLINE_JSON_BYTES) { write(value) } else { blocking(move || write(value)).await }
}

/// Whether `value` is written in about `budget` bytes or fewer; walks at most `budget` nodes, so it costs no more
/// than writing that much would.
fn fits(value: &Value, mut budget: usize) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        let cost = match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => 24,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                pending.extend(items.iter().take(budget));
                items.len() + 2
            }
            Value::Object(entries) => {
                let mut keys = 0;
                for (key, item) in entries.iter().take(budget) {
                    keys += key.len() + 4;
                    pending.push(item);
                }
                keys + 2
            }
        };
        budget = match budget.checked_sub(cost) {
            Some(left) => left,
            None => return false,
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fits_tells_small_values_from_large_ones_without_walking_all_of_a_large_one() {
        assert!(fits(&json!({ "jsonrpc": "2.0", "id": 1, "result": "0x10" }), 1_024));
        assert!(!fits(&json!("x".repeat(2_000)), 1_024));
        assert!(!fits(&Value::Array(vec![Value::Null; 100_000]), 1_024));
        let nested = json!({ "a": [{ "b": "y".repeat(600) }, { "c": "z".repeat(600) }] });
        assert!(!fits(&nested, 1_024));
        assert!(fits(&nested, 4_096));
    }
}

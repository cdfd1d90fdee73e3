//! The request MAC every caller sends: HMAC-SHA256 over `timestamp \n request_id \n METHOD \n path \n
//! hex(sha256(body))`, in the headers named here. The signer service verifies exactly these bytes.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Names the calling service.
pub const CALLER_HEADER: &str = "x-signer-caller";
/// Unix seconds when the request was made.
pub const TIMESTAMP_HEADER: &str = "x-signer-timestamp";
/// Hex HMAC of the canonical request.
pub const SIGNATURE_HEADER: &str = "x-signer-signature";
/// Random per request, so two identical bodies in one second are not replays.
pub const REQUEST_ID_HEADER: &str = "x-signer-request-id";

type HmacSha256 = Hmac<Sha256>;

/// The exact bytes a caller MACs: binds the request to its time, method, path and body.
pub fn canonical_request(timestamp: u64, request_id: &str, method: &str, path: &str, body: &[u8]) -> String {
    let body_hash = hex::encode(Sha256::digest(body));
    format!("{timestamp}\n{request_id}\n{}\n{path}\n{body_hash}", method.to_ascii_uppercase())
}

/// A request id is 1 to 64 characters of `[A-Za-z0-9_-]`, so it cannot smuggle a line break into the MAC.
pub fn is_valid_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn keyed(secret: &SecretString) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes any key length")
}

/// Hex HMAC-SHA256 of the canonical request: the value of the signature header.
pub fn request_mac(
    secret: &SecretString,
    timestamp: u64,
    request_id: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> String {
    let mut mac = keyed(secret);
    mac.update(canonical_request(timestamp, request_id, method, path, body).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `claimed` is the MAC of this request under `secret` (compared in constant time).
pub fn verify_request_mac(
    secret: &SecretString,
    timestamp: u64,
    request_id: &str,
    method: &str,
    path: &str,
    body: &[u8],
    claimed: &[u8],
) -> bool {
    let mut mac = keyed(secret);
    mac.update(canonical_request(timestamp, request_id, method, path, body).as_bytes());
    mac.verify_slice(claimed).is_ok()
}

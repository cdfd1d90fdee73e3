//! The request MAC every caller sends: HMAC-SHA256 over `timestamp \n request_id \n METHOD \n path \n
//! hex(sha256(body))`, in the headers named here. The signer service verifies exactly these bytes.
//!
//! The body's SHA-256 also travels in its own header, so the signer verifies the MAC from the headers alone and
//! reads the body of an authenticated caller only (then checks that it hashes to what the MAC covered).

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
/// Hex SHA-256 of the body, as in the canonical request: the MAC is checked before the body is read.
pub const CONTENT_SHA256_HEADER: &str = "x-signer-content-sha256";

/// Longest caller id (and `x-signer-caller` value) the signer accepts.
pub const CALLER_ID_MAX_LEN: usize = 64;
/// Longest timestamp: a u64 has at most 20 decimal digits.
pub const TIMESTAMP_MAX_LEN: usize = 20;
/// Longest request id.
pub const REQUEST_ID_MAX_LEN: usize = 64;
/// Length of a hex HMAC-SHA256 tag and of a hex SHA-256 digest.
pub const HEX_DIGEST_LEN: usize = 64;
/// Longest path and query the signer authenticates (a policy query is about 150 characters).
pub const PATH_MAX_LEN: usize = 256;
/// Shortest caller secret the signer starts with: 32 bytes, the HMAC-SHA256 output size (e.g. `openssl rand -hex
/// 32`, 64 characters).
pub const MIN_SECRET_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Hex SHA-256 of a request body: the value of [`CONTENT_SHA256_HEADER`] and the last line of the canonical request.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The exact bytes a caller MACs: binds the request to its time, method, path and body.
pub fn canonical_request(timestamp: u64, request_id: &str, method: &str, path: &str, body: &[u8]) -> String {
    canonical_request_for_hash(timestamp, request_id, method, path, &body_sha256_hex(body))
}

/// [`canonical_request`] of a body known by its hex SHA-256.
pub fn canonical_request_for_hash(
    timestamp: u64,
    request_id: &str,
    method: &str,
    path: &str,
    body_sha256_hex: &str,
) -> String {
    format!("{timestamp}\n{request_id}\n{}\n{path}\n{body_sha256_hex}", method.to_ascii_uppercase())
}

/// A request id is 1 to 64 characters of `[A-Za-z0-9_-]`, so it cannot smuggle a line break into the MAC.
pub fn is_valid_request_id(id: &str) -> bool {
    (1..=REQUEST_ID_MAX_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A caller id is 1 to 64 characters of `[A-Za-z0-9._-]`: what fits the signer's bound on `x-signer-caller`.
pub fn is_valid_caller_id(id: &str) -> bool {
    (1..=CALLER_ID_MAX_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
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
    request_mac_for_hash(secret, timestamp, request_id, method, path, &body_sha256_hex(body))
}

/// [`request_mac`] of a body known by its hex SHA-256.
pub fn request_mac_for_hash(
    secret: &SecretString,
    timestamp: u64,
    request_id: &str,
    method: &str,
    path: &str,
    body_sha256_hex: &str,
) -> String {
    let mut mac = keyed(secret);
    mac.update(canonical_request_for_hash(timestamp, request_id, method, path, body_sha256_hex).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `claimed` is the MAC under `secret` of the request whose body hashes to `body_sha256_hex` (compared in
/// constant time).
pub fn verify_request_mac(
    secret: &SecretString,
    timestamp: u64,
    request_id: &str,
    method: &str,
    path: &str,
    body_sha256_hex: &str,
    claimed: &[u8],
) -> bool {
    let mut mac = keyed(secret);
    mac.update(canonical_request_for_hash(timestamp, request_id, method, path, body_sha256_hex).as_bytes());
    mac.verify_slice(claimed).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_of_a_body_and_of_its_hash_are_one_mac() {
        let secret = SecretString::from("a-test-secret-of-at-least-32-bytes!");
        let body = br#"{"amount":"1"}"#;
        let mac = request_mac(&secret, 7, "r1", "post", "/p", body);
        assert_eq!(mac, request_mac_for_hash(&secret, 7, "r1", "POST", "/p", &body_sha256_hex(body)));
        let claimed = hex::decode(&mac).unwrap();
        assert!(verify_request_mac(&secret, 7, "r1", "POST", "/p", &body_sha256_hex(body), &claimed));
        assert!(!verify_request_mac(&secret, 7, "r1", "POST", "/p", &body_sha256_hex(b"{}"), &claimed));
    }

    #[test]
    fn caller_and_request_ids_are_short_plain_tokens() {
        for good in ["backend", "treasury-ops", "a.b_c", &"x".repeat(64)] {
            assert!(is_valid_caller_id(good), "{good}");
        }
        for bad in ["", "back end", "backend\n", "ü", &"x".repeat(65)] {
            assert!(!is_valid_caller_id(bad), "{bad:?}");
        }
        assert!(is_valid_request_id(&"a".repeat(64)) && !is_valid_request_id(&"a".repeat(65)));
        assert!(!is_valid_request_id("a.b"));
    }
}

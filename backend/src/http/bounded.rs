//! Length bounds of untrusted text fields, checked while a request is deserialized (`#[serde(deserialize_with =
//! "bounded::address")]`), so that no parser behind them — base58 is quadratic — ever sees more than its field's
//! limit. The limits themselves are `abi::limits`, shared with the signer and the TRON test node. A longer field
//! answers 422 `invalid_body` (or 400 `invalid_query`) naming its limit, before anything else looks at it.

use abi::limits;
use serde::{Deserialize, Deserializer, de::Error};

/// Reads a string of at most `max` bytes; a longer one is refused without being kept.
fn text<'de, D: Deserializer<'de>>(deserializer: D, max: usize, what: &str) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if limits::within(&text, max) {
        Ok(text)
    } else {
        Err(D::Error::custom(format!("{what} is longer than {max} characters")))
    }
}

fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
    max: usize,
    what: &str,
) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) if !limits::within(&text, max) => {
            Err(D::Error::custom(format!("{what} is longer than {max} characters")))
        }
        other => Ok(other),
    }
}

/// The stable error code of a field refused for its length, read from the deserializer's message, so that an
/// over-long address answers `invalid_address` like any other bad address (422); `None` for other messages.
pub fn refusal_code(message: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(what, _)| message.contains(&format!("{what} is longer than "))).map(|(_, code)| *code)
}

macro_rules! bounded_fields {
    ($($name:ident, $optional:ident: $max:expr, $what:literal, $code:literal;)*) => {
    /// Each field's words in the refusal, and its error code.
    const FIELDS: &[(&str, &str)] = &[$(($what, $code)),*];
    $(
        #[doc = concat!("A field holding ", $what, ", bounded by `", stringify!($max), "`.")]
        pub fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
            text(deserializer, $max, $what)
        }

        #[doc = concat!("An optional field holding ", $what, ", bounded by `", stringify!($max), "`.")]
        pub fn $optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
            optional_text(deserializer, $max, $what)
        }
    )*};
}

bounded_fields! {
    address, optional_address: limits::ADDRESS_MAX_LEN, "an address", "invalid_address";
    amount, optional_amount: limits::HUMAN_AMOUNT_MAX_LEN, "an amount", "invalid_amount";
    cap, optional_cap: limits::HUMAN_AMOUNT_MAX_LEN, "a cap", "invalid_cap";
    nonce, optional_nonce: limits::NONCE_MAX_LEN, "a nonce", "invalid_nonce";
    signature, optional_signature: limits::SIGNATURE_MAX_LEN, "a signature", "invalid_signature";
    signin_message, optional_signin_message: limits::SIGNIN_MESSAGE_MAX_LEN, "a sign-in message", "invalid_message";
    token, optional_token: limits::TOKEN_MAX_LEN, "a token", "invalid_token";
    cursor, optional_cursor: limits::CURSOR_MAX_LEN, "a cursor", "invalid_cursor";
    reason, optional_reason: limits::REASON_MAX_LEN, "a reason", "invalid_body";
    hash, optional_hash: limits::HASH_MAX_LEN, "a hash", "invalid_body";
    name, optional_name: limits::NAME_MAX_LEN, "a name", "invalid_body";
    email, optional_email: EMAIL_MAX_LEN, "an e-mail address", "invalid_email";
    url, optional_url: crate::notify::webhook::URL_MAX_LEN, "a URL", "invalid_url";
    link_token, optional_link_token: crate::notify::keys::TOKEN_MAX_LEN, "a link token", "invalid_token";
    note, optional_note: NOTE_MAX_LEN, "a note", "invalid_body";
    product_name, optional_product_name: PRODUCT_NAME_MAX_LEN, "a product name", "invalid_body";
    groups, optional_groups: GROUPS_MAX_LEN, "a list of groups", "invalid_query";
    audit_action, optional_audit_action: AUDIT_WORD_MAX_LEN, "an action", "invalid_query";
    actor, optional_actor: AUDIT_WORD_MAX_LEN, "an actor", "invalid_query";
}

/// The longest product name read, in bytes: the catalogue's 120 characters of up to four bytes each
/// (`ledger::plan::sales::catalogue::MAX_NAME` checks the characters).
pub const PRODUCT_NAME_MAX_LEN: usize = 4 * ledger::plan::sales::catalogue::MAX_NAME;

/// The longest audit action or actor a filter names (a wallet is 42 characters, a service's name or an action code
/// much less).
pub const AUDIT_WORD_MAX_LEN: usize = 64;

/// The longest list of notification groups (`money,account,news` is 18).
pub const GROUPS_MAX_LEN: usize = 32;

/// The longest e-mail address accepted (RFC 5321's path limit).
pub const EMAIL_MAX_LEN: usize = 254;
/// The longest note (a webhook endpoint's description).
pub const NOTE_MAX_LEN: usize = 200;

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::address")]
        sponsor: String,
        #[serde(default, deserialize_with = "super::optional_cursor")]
        cursor: Option<String>,
    }

    #[test]
    fn a_field_longer_than_its_limit_is_refused_by_name() {
        let ok: Body = serde_json::from_str(r#"{"sponsor": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}"#).unwrap();
        assert_eq!(ok.sponsor.len(), 34);
        assert_eq!(ok.cursor, None);
        let long = format!(r#"{{"sponsor": "{}"}}"#, "T".repeat(abi::limits::ADDRESS_MAX_LEN + 1));
        let err = serde_json::from_str::<Body>(&long).unwrap_err().to_string();
        assert!(err.contains("an address is longer than 44 characters"), "{err}");
        let cursor = format!(r#"{{"sponsor": "x", "cursor": "{}"}}"#, "9".repeat(257));
        let err = serde_json::from_str::<Body>(&cursor).unwrap_err().to_string();
        assert_eq!(super::refusal_code(&err), Some("invalid_cursor"));
        assert_eq!(super::refusal_code("missing field `sponsor`"), None);
    }
}

//! The one place that says how long each kind of untrusted text may be. Every service (the API, the signer, the
//! TRON test node) checks a field's length against these before it parses it, so no parser that costs more than
//! linear time (base58 is quadratic) ever sees more than a few dozen characters.

/// A 0x address: `0x` and 40 hex digits.
pub const EVM_ADDRESS_LEN: usize = 42;
/// A TRON `T…` address: base58check of 21 bytes (0x41 prefix + 20) and a 4-byte checksum is always 34 characters.
pub const TRON_ADDRESS_LEN: usize = 34;
/// A TRON address in hex as java-tron's HTTP API writes it: `41` and 40 hex digits (42), with an optional `0x`.
pub const TRON_HEX_ADDRESS_MAX_LEN: usize = 44;
/// The longest address text in any accepted form.
pub const ADDRESS_MAX_LEN: usize = TRON_HEX_ADDRESS_MAX_LEN;
/// A 32-byte hash or id in hex, with an optional `0x`.
pub const HASH_MAX_LEN: usize = 66;
/// A JSON-RPC quantity (a block number, a value, gas): `0x` and at most 64 hex digits, a uint256.
pub const QUANTITY_MAX_LEN: usize = 66;
/// A 65-byte ECDSA signature in hex, with an optional `0x`.
pub const SIGNATURE_MAX_LEN: usize = 132;
/// An amount in base units: a uint256 has at most 78 decimal digits (or 0x and 64 hex digits).
pub const AMOUNT_MAX_LEN: usize = 78;
/// A human amount (`"20.5"`): 78 digits, a point and up to 18 decimals, with room for a sign the parser refuses.
pub const HUMAN_AMOUNT_MAX_LEN: usize = 100;
/// A nonce or any other u256/u64 written in decimal.
pub const NONCE_MAX_LEN: usize = 78;
/// An opaque pagination cursor.
pub const CURSOR_MAX_LEN: usize = 256;
/// A signed-in message (EIP-4361 text as this service issues it is about 450 characters).
pub const SIGNIN_MESSAGE_MAX_LEN: usize = 2_048;
/// A name from a fixed set (a status, a kind).
pub const NAME_MAX_LEN: usize = 64;
/// Free text typed by an admin (a reason, a note).
pub const REASON_MAX_LEN: usize = 500;
/// A token (JWT access token or refresh token).
pub const TOKEN_MAX_LEN: usize = 4_096;
/// Hex-encoded bytes of a transaction or call data: 500,000 bytes, under java-tron's 500 KiB per transaction with
/// its signature and results, so the largest accepted text is a transaction java-tron takes.
pub const TX_HEX_MAX_LEN: usize = 1_000_000;
/// A Solidity function signature as TRON's HTTP API takes it (`function_selector`, e.g.
/// `register((address,address,address,uint256,uint256,uint256),bytes)`), hashed for its selector.
pub const FUNCTION_SIGNATURE_MAX_LEN: usize = 1_024;

/// Whether `text` is at most `max` bytes long: the check every field passes before it is parsed.
pub fn within(text: &str, max: usize) -> bool {
    text.len() <= max
}

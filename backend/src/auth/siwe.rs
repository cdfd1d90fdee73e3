//! Sign-In with Ethereum (EIP-4361) message text, pure: build what the wallet signs, parse it
//! back, check its fields against this deployment, recover who signed it. TRON wallets sign
//! the same text (address in base58 `T…`) with TRON's message prefix.

use alloy::primitives::{Address, Signature};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::refusal::Refusal;

/// Which wallet family signs: its address form and its signed-message prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WalletChain {
    /// EVM wallet: 0x address, EIP-191 `personal_sign`.
    Evm,
    /// TRON wallet: base58 `T…` address, TRON's signed-message prefix.
    Tron,
}

impl WalletChain {
    /// The lowercase name (`evm`, `tron`), as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evm => "evm",
            Self::Tron => "tron",
        }
    }

    /// Reads an address as this chain's wallets write it (0x EIP-55/lowercase, or `T…`).
    pub fn parse_address(self, text: &str) -> Option<Address> {
        match self {
            Self::Evm => {
                let hex = text.strip_prefix("0x")?;
                (hex.len() == 40).then(|| text.parse().ok()).flatten()
            }
            Self::Tron => abi::tron::from_base58(text).ok(),
        }
    }

    /// Writes `address` as this chain's wallets show it (0x EIP-55, or `T…`).
    pub fn show_address(self, address: Address) -> String {
        match self {
            Self::Evm => address.to_checksum(None),
            Self::Tron => abi::tron::to_base58(address),
        }
    }
}

/// The fields of an EIP-4361 message this service issues and accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// `domain` (host[:port]) of the site asking for the sign-in.
    pub domain: String,
    /// The wallet family; picks the header wording and the address form.
    pub chain: WalletChain,
    /// The wallet signing in.
    pub address: Address,
    /// The human-readable statement line.
    pub statement: String,
    /// `URI` of the site asking for the sign-in.
    pub uri: String,
    /// `Chain ID` the message is for.
    pub chain_id: u64,
    /// The single-use nonce (alphanumeric, at least 8 characters).
    pub nonce: String,
    /// `Issued At`, written in RFC 3339 UTC to the second.
    pub issued_at: DateTime<Utc>,
    /// `Expiration Time`: the message is refused from then on.
    pub expiration_time: DateTime<Utc>,
}

impl WalletChain {
    /// The message's first line after the domain: EIP-4361's for EVM wallets, the same words naming TRON for
    /// TronLink users (who would rightly distrust a message asking for their "Ethereum account").
    fn header_suffix(self) -> &'static str {
        match self {
            Self::Evm => " wants you to sign in with your Ethereum account:",
            Self::Tron => " wants you to sign in with your TRON account:",
        }
    }
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl SiweMessage {
    /// The exact text the wallet signs.
    pub fn to_text(&self) -> String {
        format!(
            "{domain}{suffix}\n{address}\n\n{statement}\n\nURI: {uri}\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\nIssued At: {issued}\nExpiration Time: {expires}",
            domain = self.domain,
            suffix = self.chain.header_suffix(),
            address = self.chain.show_address(self.address),
            statement = self.statement,
            uri = self.uri,
            chain_id = self.chain_id,
            nonce = self.nonce,
            issued = timestamp(self.issued_at),
            expires = timestamp(self.expiration_time),
        )
    }

    /// Parses text in the shape [`to_text`](Self::to_text) writes; the address form tells the
    /// chain (0x… EVM, T… TRON).
    pub fn parse(text: &str) -> Result<Self, SiweError> {
        let bad = |what: &'static str| SiweError::Malformed(what);
        if !abi::limits::within(text, abi::limits::SIGNIN_MESSAGE_MAX_LEN) {
            return Err(bad("length"));
        }
        let mut lines = text.split('\n');
        let header = lines.next().ok_or(bad("header"))?;
        // The header names the wallet's chain; the address must be written in that chain's form.
        let (chain, domain) = [WalletChain::Evm, WalletChain::Tron]
            .into_iter()
            .find_map(|chain| header.strip_suffix(chain.header_suffix()).map(|domain| (chain, domain)))
            .ok_or(bad("header"))?;
        let address_text = lines.next().ok_or(bad("address"))?;
        let address = chain.parse_address(address_text).ok_or(bad("address"))?;
        if lines.next() != Some("") {
            return Err(bad("blank line after address"));
        }
        let statement = lines.next().ok_or(bad("statement"))?;
        if lines.next() != Some("") {
            return Err(bad("blank line after statement"));
        }
        let mut field = |name: &'static str| -> Result<&str, SiweError> {
            lines.next().and_then(|l| l.strip_prefix(name)).and_then(|l| l.strip_prefix(": ")).ok_or(bad(name))
        };
        let uri = field("URI")?.to_owned();
        if field("Version")? != "1" {
            return Err(bad("Version"));
        }
        let chain_id = field("Chain ID")?.parse().map_err(|_| bad("Chain ID"))?;
        let nonce = field("Nonce")?.to_owned();
        let time =
            |s: &str, what| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| bad(what));
        let issued_at = time(field("Issued At")?, "Issued At")?;
        let expiration_time = time(field("Expiration Time")?, "Expiration Time")?;
        if lines.next().is_some() {
            return Err(bad("trailing lines"));
        }
        if nonce.len() < 8 || !nonce.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad("Nonce"));
        }
        Ok(Self {
            domain: domain.to_owned(),
            chain,
            address,
            statement: statement.to_owned(),
            uri,
            chain_id,
            nonce,
            issued_at,
            expiration_time,
        })
    }

    /// Refuses a message meant for another site or chain, or outside its validity window.
    pub fn check(&self, expected: &Expected<'_>, now: DateTime<Utc>) -> Result<(), SiweError> {
        if self.domain != expected.domain || self.uri != expected.uri {
            return Err(SiweError::WrongDomain);
        }
        let chain_id = match self.chain {
            WalletChain::Evm => expected.evm_chain_id,
            WalletChain::Tron => expected.tron_chain_id,
        };
        if self.chain_id != chain_id {
            return Err(SiweError::WrongChain);
        }
        if now >= self.expiration_time {
            return Err(SiweError::Expired);
        }
        // A little clock skew between wallet and server is tolerated; the server wrote it anyway.
        if self.issued_at > now + chrono::Duration::seconds(60) {
            return Err(SiweError::NotYetValid);
        }
        Ok(())
    }

    /// The address whose key made `signature` over this text: EIP-191 `personal_sign` for EVM
    /// wallets, TRON's signed-message hash for TRON wallets.
    pub fn recover_signer(&self, text: &str, signature: &Signature) -> Result<Address, SiweError> {
        match self.chain {
            WalletChain::Evm => signature.recover_address_from_msg(text.as_bytes()),
            WalletChain::Tron => {
                signature.recover_address_from_prehash(&abi::tron::signed_message_hash(text.as_bytes()))
            }
        }
        .map_err(|_| SiweError::BadSignature)
    }
}

/// What this deployment accepts.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// `domain` the messages must name.
    pub domain: &'a str,
    /// `URI` the messages must name.
    pub uri: &'a str,
    /// `Chain ID` of EVM sign-in messages.
    pub evm_chain_id: u64,
    /// `Chain ID` of TRON sign-in messages.
    pub tron_chain_id: u64,
}

/// Parses a 65-byte `r ‖ s ‖ v` signature in hex (v as 0/1 or 27/28).
pub fn parse_signature(text: &str) -> Result<Signature, SiweError> {
    let bytes = alloy::hex::decode(text).map_err(|_| SiweError::BadSignature)?;
    if bytes.len() != 65 {
        return Err(SiweError::BadSignature);
    }
    Signature::from_raw(&bytes).map_err(|_| SiweError::BadSignature)
}

/// Why a sign-in message or its signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SiweError {
    /// Too long, or not in the shape this service writes; names the part that is wrong.
    #[error("malformed sign-in message: {0}")]
    Malformed(&'static str),
    /// Its `domain` or `URI` is not this deployment's.
    #[error("message is for another domain or URI")]
    WrongDomain,
    /// Its `Chain ID` is not the configured one for its wallet family.
    #[error("message is for another chain id")]
    WrongChain,
    /// Its `Expiration Time` has passed.
    #[error("message has expired")]
    Expired,
    /// Its `Issued At` is more than 60 s in the future.
    #[error("message is not valid yet")]
    NotYetValid,
    /// The signature is not 65 bytes of hex, or was not made by the message's address.
    #[error("signature is malformed or not by the message's address")]
    BadSignature,
}

/// An address given in a path, query or body field: 0x hex (any case) or TRON base58: else `invalid_address`.
/// Text longer than any address form is refused before either parser sees it.
pub fn parse_address(text: &str, field: &str) -> Result<Address, Refusal> {
    if !abi::limits::within(text, abi::limits::ADDRESS_MAX_LEN) {
        return Err(Refusal::unprocessable(
            "invalid_address",
            format!("{field} is longer than any address ({} characters at most)", abi::limits::ADDRESS_MAX_LEN),
        ));
    }
    WalletChain::Evm
        .parse_address(text)
        .or_else(|| WalletChain::Tron.parse_address(text))
        .ok_or_else(|| Refusal::unprocessable("invalid_address", format!("{field} is not a 0x or TRON address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(chain: WalletChain) -> SiweMessage {
        SiweMessage {
            domain: "example.org".into(),
            chain,
            address: Address::repeat_byte(0xab),
            statement: "Sign in.".into(),
            uri: "https://example.org".into(),
            chain_id: 56,
            nonce: "abcdef0123456789".into(),
            issued_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            expiration_time: DateTime::from_timestamp(1_700_000_300, 0).unwrap(),
        }
    }

    #[test]
    fn text_round_trips_for_both_chains() {
        for chain in [WalletChain::Evm, WalletChain::Tron] {
            let m = message(chain);
            assert_eq!(SiweMessage::parse(&m.to_text()).unwrap(), m);
        }
        let text = message(WalletChain::Evm).to_text();
        let shown = Address::repeat_byte(0xab).to_checksum(None);
        assert!(text.starts_with(&format!("example.org wants you to sign in with your Ethereum account:\n{shown}\n")));
        assert!(
            text.contains("\nVersion: 1\nChain ID: 56\nNonce: abcdef0123456789\nIssued At: 2023-11-14T22:13:20Z\n")
        );
        let tron = message(WalletChain::Tron).to_text();
        let shown = abi::tron::to_base58(Address::repeat_byte(0xab));
        assert!(tron.starts_with(&format!("example.org wants you to sign in with your TRON account:\n{shown}\n")));
    }

    #[test]
    fn a_header_and_an_address_of_different_chains_are_refused() {
        let evm = message(WalletChain::Evm).to_text();
        let tron = message(WalletChain::Tron).to_text();
        let swapped_headers =
            [evm.replace("Ethereum account", "TRON account"), tron.replace("TRON account", "Ethereum account")];
        for bad in swapped_headers {
            assert_eq!(SiweMessage::parse(&bad), Err(SiweError::Malformed("address")), "{bad}");
        }
    }

    #[test]
    fn tampered_text_is_refused() {
        let text = message(WalletChain::Evm).to_text();
        for bad in [
            text.replace("Version: 1", "Version: 2"),
            text.replace("Nonce: abcdef0123456789", "Nonce: ab'; --"),
            format!("{text}\nResources: x"),
            text.replace("0x", "0xZZ"),
        ] {
            assert!(SiweMessage::parse(&bad).is_err(), "{bad}");
        }
    }
}

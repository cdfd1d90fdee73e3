//! The notifier's key: from one 32-byte secret (`[notifications] key`, from the environment) come the key that seals
//! members' e-mail addresses and webhook secrets at rest (AES-256-GCM, a random nonce per seal) and the key that
//! MACs the links in e-mails (confirm, unsubscribe), so that a link names the member and the address it was sent for
//! and cannot be forged or moved to another member.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The longest link token accepted (hex address, hex nonce, hex MAC and two dots: 147).
pub const TOKEN_MAX_LEN: usize = 160;

/// The sealing and link keys.
#[derive(Clone)]
pub struct NotifyKeys {
    seal: Aes256Gcm,
    links: [u8; 32],
}

impl std::fmt::Debug for NotifyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotifyKeys(…)")
    }
}

/// A link's purpose: a token made for one is refused for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Confirming an address (double opt-in).
    Confirm,
    /// Unsubscribing from every e-mail.
    Unsubscribe,
}

impl LinkPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Confirm => b"confirm",
            Self::Unsubscribe => b"unsubscribe",
        }
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(b"referral-notify/");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl NotifyKeys {
    /// From the 32-byte secret.
    pub fn new(master: &[u8; 32]) -> Self {
        let seal = Aes256Gcm::new_from_slice(&derive(master, b"seal")).expect("a 32-byte key");
        Self { seal, links: derive(master, b"links") }
    }

    /// Seals `plain`: a random 12-byte nonce, then the ciphertext with its tag.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let mut out = nonce.to_vec();
        out.extend(self.seal.encrypt(Nonce::from_slice(&nonce), plain).expect("AES-GCM seals any length we store"));
        out
    }

    /// Opens what [`seal`](Self::seal) sealed with this key; `None` when it was not (another key, or altered).
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = sealed.split_at(12);
        self.seal.decrypt(Nonce::from_slice(nonce), body).ok()
    }

    fn link_mac(&self, purpose: LinkPurpose, address: &[u8], nonce: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.links).expect("HMAC takes any key length");
        mac.update(purpose.label());
        mac.update(b"/");
        mac.update(address);
        mac.update(nonce);
        mac
    }

    /// A keyed digest of an e-mail address (lower-cased): what the confirmation limits count an address by, without
    /// storing it (issue 65). The same address gives the same digest under the same key.
    pub fn address_digest(&self, email: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.links).expect("HMAC takes any key length");
        mac.update(b"address/");
        mac.update(email.to_lowercase().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A link token for `purpose`, the member's wallet and the contact's nonce: `address.nonce.mac`, all hex.
    pub fn link_token(&self, purpose: LinkPurpose, address: &[u8], nonce: &[u8]) -> String {
        let mac = self.link_mac(purpose, address, nonce).finalize().into_bytes();
        format!("{}.{}.{}", alloy::hex::encode(address), alloy::hex::encode(nonce), alloy::hex::encode(mac))
    }

    /// The wallet and nonce a token for `purpose` names, when its MAC holds (compared in constant time).
    pub fn check_token(&self, purpose: LinkPurpose, token: &str) -> Option<([u8; 20], [u8; 16])> {
        if token.len() > TOKEN_MAX_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (address, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let mut a = [0u8; 20];
        let mut n = [0u8; 16];
        alloy::hex::decode_to_slice(address, &mut a).ok()?;
        alloy::hex::decode_to_slice(nonce, &mut n).ok()?;
        let mac = alloy::hex::decode(mac).ok()?;
        self.link_mac(purpose, &a, &n).verify_slice(&mac).ok()?;
        Some((a, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_opens_only_with_its_key_and_unaltered() {
        let keys = NotifyKeys::new(&[7; 32]);
        let sealed = keys.seal(b"member@example.test");
        assert_eq!(keys.open(&sealed).as_deref(), Some(&b"member@example.test"[..]));
        assert_ne!(keys.seal(b"member@example.test"), sealed, "a fresh nonce per seal");
        assert_eq!(NotifyKeys::new(&[8; 32]).open(&sealed), None, "another key cannot open it");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(keys.open(&altered), None, "an altered seal does not open");
        assert_eq!(keys.open(&sealed[..20]), None);
    }

    #[test]
    fn a_link_token_holds_for_its_purpose_member_and_nonce_only() {
        let keys = NotifyKeys::new(&[7; 32]);
        let token = keys.link_token(LinkPurpose::Confirm, &[1; 20], &[2; 16]);
        assert_eq!(keys.check_token(LinkPurpose::Confirm, &token), Some(([1; 20], [2; 16])));
        assert_eq!(keys.check_token(LinkPurpose::Unsubscribe, &token), None, "purpose is covered");
        assert_eq!(NotifyKeys::new(&[9; 32]).check_token(LinkPurpose::Confirm, &token), None);
        // Another member's address with this MAC is refused.
        let moved = format!("{}{}", alloy::hex::encode([3u8; 20]), &token[40..]);
        assert_eq!(keys.check_token(LinkPurpose::Confirm, &moved), None);
        for bad in ["", "..", "zz.zz.zz", &format!("{token}.x"), &"a".repeat(TOKEN_MAX_LEN + 1)] {
            assert_eq!(keys.check_token(LinkPurpose::Confirm, bad), None, "{bad}");
        }
    }
}

//! Short-lived HS256 access tokens: `sub` is the wallet (0x, EIP-55), `role` user|admin, `fam` the refresh-token
//! family (session) it was issued for, so that revoking the session (logout, reuse) also ends its access tokens.

use alloy::primitives::Address;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::roles::Role;

/// The JWT claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The wallet, 0x EIP-55.
    pub sub: String,
    /// What the wallet may do.
    pub role: Role,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// The session (refresh-token family) the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

/// What a valid access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed-in wallet.
    pub wallet: Address,
    /// What the wallet may do.
    pub role: Role,
    /// The session it belongs to; checked against revoked sessions on every request.
    pub family: Option<String>,
}

/// Signs and checks access tokens with one secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens").field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Signs and checks HS256 tokens with `secret`; issued tokens last `ttl_secs` (5 s leeway when checked).
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2),
        }
    }

    /// Seconds an access token stays valid.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// A signed access token for `wallet` with `role` in session `family`, valid for [`ttl_secs`](Self::ttl_secs).
    pub fn issue(
        &self,
        wallet: Address,
        role: Role,
        family: Option<&str>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: wallet.to_checksum(None),
            role,
            iat: now,
            exp: now + self.ttl_secs,
            fam: family.map(str::to_owned),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a valid, unexpired token signed with our key; `None` otherwise.
    pub fn verify(&self, token: &str) -> Option<Verified> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let wallet = data.claims.sub.parse().ok()?;
        Some(Verified { wallet, role: data.claims.role, family: data.claims.fam })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_verifies_and_foreign_or_tampered_does_not() {
        let tokens = AccessTokens::new(b"secret-a", 60);
        let wallet = Address::repeat_byte(7);
        let token = tokens.issue(wallet, Role::Admin, Some("fam-1")).unwrap();
        assert_eq!(tokens.verify(&token), Some(Verified { wallet, role: Role::Admin, family: Some("fam-1".into()) }));
        assert_eq!(AccessTokens::new(b"secret-b", 60).verify(&token), None);
        let mut tampered = token.clone();
        tampered.push('x');
        assert_eq!(tokens.verify(&tampered), None);
        let expired = AccessTokens::new(b"secret-a", 0);
        let old = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims { sub: wallet.to_checksum(None), role: Role::User, iat: 0, exp: 1, fam: None },
            &expired.encoding,
        )
        .unwrap();
        assert_eq!(tokens.verify(&old), None);
    }
}

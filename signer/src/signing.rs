//! The one path from an authenticated intent to a signature: policy, then — under the store's write lock —
//! nonce, double-sign check, rolling cap, signature, record, commit. Every decision goes to the audit log.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Signature, U256};

use crate::{
    auth::Authenticated,
    intent::{Intent, Kind, Target},
    key::{KeyError, KeySource},
    policy::{DAILY_WINDOW_SECS, Policy, Refusal},
    store::{NewRecord, Store, StoreError},
};

/// A signature the caller may use, with everything that went into it.
#[derive(Clone, Debug)]
pub struct Signed {
    pub kind: Kind,
    pub target: Target,
    pub nonce: U256,
    pub deadline: u64,
    pub digest: B256,
    pub signature: Signature,
    /// False when the same payload had been signed before and its recorded signature is returned.
    pub fresh: bool,
    pub payload: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("nonce {nonce} of contract {contract} on chain {chain_id} was already signed for a different payload")]
    NonceConflict { chain_id: u64, contract: Address, nonce: U256 },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("key: {0}")]
    Key(#[from] KeyError),
}

impl SignError {
    /// The stable code clients see and the audit log records.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::Refused(r) => r.rule.code(),
            SignError::NonceConflict { .. } => "nonce_conflict",
            SignError::Store(_) | SignError::Key(_) => "internal",
        }
    }
}

pub struct SigningService {
    policy: Policy,
    store: Store,
    key: Arc<dyn KeySource>,
    address: Address,
}

impl std::fmt::Debug for SigningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningService").field("address", &self.address).finish_non_exhaustive()
    }
}

impl SigningService {
    pub async fn new(policy: Policy, store: Store, key: Arc<dyn KeySource>) -> Result<Self, KeyError> {
        let address = key.address().await?;
        Ok(SigningService { policy, store, key, address })
    }

    /// The address the contract must hold as `signer`.
    pub fn address(&self) -> Address {
        self.address
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Signs `intent` for `caller` at time `now`, or says which rule refused it. Audit-logs the decision.
    pub async fn sign(&self, caller: &Authenticated, intent: &Intent, now: u64) -> Result<Signed, SignError> {
        let result = self.decide(caller, intent, now).await;
        audit(caller, intent, &result);
        result
    }

    async fn decide(&self, caller: &Authenticated, intent: &Intent, now: u64) -> Result<Signed, SignError> {
        // The HTTP layer checks this before parsing; checked again here, on the one path to a signature.
        Policy::permit(caller, intent.kind())?;
        let admission = self.policy.admit(intent, now)?;
        let deadline = admission.deadline;
        let target = intent.target;
        let domain = target.domain();

        let mut tx = self.store.begin_write().await?;
        let nonce = match intent.nonce {
            Some(nonce) => nonce,
            None => tx.allocate_nonce(target).await?,
        };
        let payload = intent.payload(nonce, deadline);
        let digest = payload.digest(&domain);
        let echo = intent.echo(nonce, deadline);
        let signed = |signature, fresh| Signed {
            kind: intent.kind(),
            target,
            nonce,
            deadline,
            digest,
            signature,
            fresh,
            payload: echo.clone(),
        };

        if let Some(previous) = tx.find(target, nonce).await? {
            return if previous.digest == digest {
                Ok(signed(previous.signature, false))
            } else {
                Err(SignError::NonceConflict { chain_id: target.chain_id, contract: target.contract, nonce })
            };
        }
        let amount = intent.action.total();
        if admission.daily_outflow_cap.is_some() {
            let since = now.saturating_sub(DAILY_WINDOW_SECS);
            let signed_in_window = tx.outflow_since(target.chain_id, intent.action.token(), since).await?;
            Policy::check_daily_outflow(&admission, signed_in_window, amount)?;
        }

        let signature = self.key.sign_hash(digest).await?;
        tx.insert(&NewRecord {
            target,
            nonce,
            kind: intent.kind(),
            digest,
            signature,
            asset: intent.action.token(),
            amount,
            deadline,
            caller: &caller.caller,
            request_mac: &caller.mac,
            signed_at: now,
            payload: &echo,
        })
        .await
        .map_err(|e| match e {
            StoreError::NonceTaken => {
                SignError::NonceConflict { chain_id: target.chain_id, contract: target.contract, nonce }
            }
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(signed(signature, true))
    }
}

fn audit(caller: &Authenticated, intent: &Intent, result: &Result<Signed, SignError>) {
    let (kind, target, token, amount) = (intent.kind(), intent.target, intent.action.token(), intent.action.total());
    match result {
        Ok(s) => tracing::info!(
            target: "signer::audit",
            caller = %caller.caller,
            kind = %kind,
            chain_id = target.chain_id,
            contract = %target.contract,
            token = %token,
            amount = %amount,
            nonce = %s.nonce,
            deadline = s.deadline,
            digest = %s.digest,
            decision = if s.fresh { "signed" } else { "resigned_same_payload" },
            "signature issued"
        ),
        Err(e) => {
            let detail = e.to_string();
            if matches!(e, SignError::Store(_) | SignError::Key(_)) {
                tracing::error!(
                    target: "signer::audit",
                    caller = %caller.caller, kind = %kind, chain_id = target.chain_id, contract = %target.contract,
                    token = %token, amount = %amount, nonce = ?intent.nonce, deadline = ?intent.deadline,
                    decision = "error", rule = e.code(), %detail,
                    "signing failed"
                );
            } else {
                tracing::warn!(
                    target: "signer::audit",
                    caller = %caller.caller, kind = %kind, chain_id = target.chain_id, contract = %target.contract,
                    token = %token, amount = %amount, nonce = ?intent.nonce, deadline = ?intent.deadline,
                    decision = "refused", rule = e.code(), %detail,
                    "signature refused"
                );
            }
        }
    }
}

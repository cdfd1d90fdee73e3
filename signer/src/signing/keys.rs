//! The keys the signer holds, and which one signs for a contract. Usually one. During a rotation of the contract's
//! signer (`scheduleSignerRotation`, then `applyChange` once the contract's delay has passed;
//! `ops/signer-rotation.md`) two: the current one and the next, and each payload is signed with the one the
//! contract's `signer()` names now, read from the signer's own node of the chain — so payouts go on through the
//! delay and after the change, without a restart at the moment it applies.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::primitives::Address;

use super::SignError;
use crate::{intent::Target, key::KeySource, node::Nodes};

/// How long a contract's `signer()` read is used before it is read again: the signer follows an applied rotation
/// within this.
const FRESH: Duration = Duration::from_secs(1);
/// How long a read is used when the node cannot be read again (as the chain's clock: [`crate::clock::MAX_AGE`]).
const USABLE: Duration = crate::clock::MAX_AGE;

/// A key the signer holds: its address, and what signs with it.
#[derive(Clone)]
pub(crate) struct HeldKey {
    pub(crate) address: Address,
    pub(crate) source: Arc<dyn KeySource>,
}

/// The keys held, the current one first.
pub(super) struct Keyring {
    keys: Vec<HeldKey>,
    /// The last `signer()` read of each contract, and when (only with more than one key).
    contract_signers: Mutex<HashMap<Target, (Address, Instant)>>,
}

impl Keyring {
    /// The keys, the current one first; their addresses must differ.
    pub(super) fn new(keys: Vec<HeldKey>) -> Result<Keyring, SignError> {
        let Some(first) = keys.first() else {
            return Err(SignError::Key(crate::key::KeyError::Signing("no key".into())));
        };
        if keys.iter().skip(1).any(|k| k.address == first.address) {
            return Err(SignError::Key(crate::key::KeyError::Signing(format!(
                "[key] and [key.next] are the same key {}: a rotation needs a new key",
                first.address
            ))));
        }
        Ok(Keyring { keys, contract_signers: Mutex::default() })
    }

    /// The current key (`[key]`): the one signing when there is no rotation under way.
    pub(super) fn current(&self) -> &HeldKey {
        &self.keys[0]
    }

    /// Every address held, the current one first.
    pub(super) fn addresses(&self) -> Vec<Address> {
        self.keys.iter().map(|k| k.address).collect()
    }

    /// Whether a rotation is under way (more than one key held): keys are then chosen by the contract's `signer()`.
    pub(super) fn rotating(&self) -> bool {
        self.keys.len() > 1
    }

    /// The key that signs for `target`: the only one, or the one the contract's `signer()` names (read on the
    /// signer's own node at most [`FRESH`] ago; a read up to [`USABLE`] old when the node does not answer).
    pub(super) async fn for_target(&self, nodes: &Nodes, target: Target) -> Result<HeldKey, SignError> {
        if !self.rotating() {
            return Ok(self.keys[0].clone());
        }
        let cached = self.contract_signers.lock().unwrap_or_else(|p| p.into_inner()).get(&target).copied();
        let signer = match cached {
            Some((signer, at)) if at.elapsed() < FRESH => signer,
            _ => match nodes.contract_signer(target.chain_id, target.contract).await {
                Ok(signer) => {
                    let mut signers = self.contract_signers.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some((before, _)) = signers.insert(target, (signer, Instant::now()))
                        && before != signer
                    {
                        tracing::warn!(
                            chain_id = target.chain_id, contract = %target.contract, from = %before, to = %signer,
                            "the contract's signer changed: signing for it with the key it names now"
                        );
                    }
                    signer
                }
                Err(e) => match cached {
                    Some((signer, at)) if at.elapsed() < USABLE => signer,
                    _ => return Err(SignError::NodeUnavailable(format!("reading the contract's signer(): {e}"))),
                },
            },
        };
        self.keys.iter().find(|k| k.address == signer).cloned().ok_or(SignError::KeyNotHeld {
            chain_id: target.chain_id,
            contract: target.contract,
            signer,
        })
    }

    /// The key the signer signs with now, as `GET /v1/signer` shows it: with a rotation under way, the key every
    /// contract of `targets` names (read now), or the current key when they do not all name the same held key.
    pub(super) async fn signing_now(&self, nodes: &Nodes, targets: &[Target]) -> Address {
        if !self.rotating() {
            return self.keys[0].address;
        }
        let mut named = None;
        for target in targets {
            self.contract_signers.lock().unwrap_or_else(|p| p.into_inner()).remove(target);
            match self.for_target(nodes, *target).await {
                Ok(key) if named.is_none_or(|a| a == key.address) => named = Some(key.address),
                _ => return self.keys[0].address,
            }
        }
        named.unwrap_or(self.keys[0].address)
    }
}

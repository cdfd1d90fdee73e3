//! Nonces: the reserve of nonces handed out before the writer sees a request, and the counter a group moves
//! over the store's used nonces.

use std::collections::{BTreeSet, HashMap, VecDeque, hash_map::Entry};
use std::sync::Mutex;

use alloy::primitives::{B256, U256};

use crate::{
    intent::Target,
    store::{StoreError, WriteTx},
};

/// Nonces the writer reserved for requests that name none: the store's counter was moved past them in the
/// transaction that reserved them, so no other writer hands them out. A request takes one and is signed at once,
/// beside the others, instead of on the writer's serial path; the writer records it only if the nonce is still
/// free (a caller may have chosen it meanwhile), and otherwise allocates and signs as for any request. A restart
/// forgets them: gaps in an unordered nonce space cost nothing.
#[derive(Default)]
pub(super) struct Reserved(Mutex<HashMap<Target, VecDeque<U256>>>);

/// How many nonces the writer reserves for a contract at a time, and below how many left it reserves more.
pub(super) const RESERVE_BATCH: usize = 256;
pub(super) const RESERVE_LOW: usize = 64;

impl Reserved {
    pub(super) fn take(&self, target: Target) -> Option<U256> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&target)?.pop_front()
    }

    pub(super) fn len(&self, target: Target) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&target).map_or(0, VecDeque::len)
    }

    pub(super) fn add(&self, target: Target, nonces: Vec<U256>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(target).or_default().extend(nonces);
    }
}

/// A nonce counter as the group moves it, with the nonces callers chose themselves at or above it.
pub(super) struct Counter {
    /// The counter as stored when the group began.
    pub(super) stored: U256,
    pub(super) next: U256,
    /// Store nonces at or above the counter, complete up to `known_to` (to the end when `None`).
    pub(super) used: BTreeSet<U256>,
    pub(super) known_to: Option<U256>,
}

/// Nonces read from the store at a time while looking for the next free one.
const USED_NONCES_PAGE: u32 = 256;

impl Counter {
    /// The group's counter of `target`, loaded from the store the first time the group needs it.
    pub(super) fn of<'v>(
        counters: &'v mut HashMap<Target, Counter>,
        tx: &mut WriteTx<'_>,
        target: Target,
    ) -> Result<&'v mut Counter, StoreError> {
        Ok(match counters.entry(target) {
            Entry::Occupied(c) => c.into_mut(),
            Entry::Vacant(v) => v.insert(Counter::load(tx, target)?),
        })
    }

    fn load(tx: &mut WriteTx<'_>, target: Target) -> Result<Counter, StoreError> {
        let stored = tx.next_nonce(target)?;
        let mut counter = Counter { stored, next: stored, used: BTreeSet::new(), known_to: Some(U256::ZERO) };
        counter.read_used(tx, target, stored)?;
        Ok(counter)
    }

    fn read_used(&mut self, tx: &mut WriteTx<'_>, target: Target, from: U256) -> Result<(), StoreError> {
        let used = tx.used_nonces_from(target, from, USED_NONCES_PAGE)?;
        self.known_to = if used.len() == USED_NONCES_PAGE as usize { used.last().copied() } else { None };
        self.used = used.into_iter().collect();
        Ok(())
    }

    /// The next nonce no record and no earlier request of the group holds.
    pub(super) fn free(
        &mut self,
        tx: &mut WriteTx<'_>,
        target: Target,
        taken: &HashMap<(Target, U256), (usize, B256)>,
    ) -> Result<U256, StoreError> {
        let mut nonce = self.next;
        loop {
            if self.known_to.is_some_and(|known| nonce > known) {
                self.read_used(tx, target, nonce)?;
                continue;
            }
            if !self.used.contains(&nonce) && !taken.contains_key(&(target, nonce)) {
                return Ok(nonce);
            }
            nonce =
                nonce.checked_add(U256::from(1)).ok_or_else(|| StoreError::Corrupt("nonce space exhausted".into()))?;
        }
    }
}

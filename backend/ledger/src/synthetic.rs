//! Deterministic synthetic event streams for property tests and the benchmark.

use alloy::primitives::{Address, B256, U256, keccak256};

use crate::events::{ChainEvent, EventBody, EventKey};
use crate::plan::Amount;

/// What the stream looks like; rates are per mille of operations.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// Same seed, same stream: user addresses, hashes and choices all derive from it.
    pub seed: u64,
    /// Chain id put in every event key.
    pub chain_id: u64,
    /// Asset token of every event (zero address for the native coin).
    pub token: Address,
    /// The asset's genesis user, the first possible sponsor.
    pub genesis: Address,
    /// Fee valid registrations pay; must match the plan under test.
    pub registration_fee: Amount,
    /// Fee valid retopups pay; must match the plan under test.
    pub retopup_fee: Amount,
    /// Logs per block before the block number advances.
    pub events_per_block: u64,
    /// Share of events that are retopups rather than registrations.
    pub retopup_per_mille: u32,
    /// Wrong amounts, duplicate users, unknown sponsors, unknown retopup users.
    pub invalid_per_mille: u32,
    /// Admin freezes and unfreezes interleaved with the events.
    pub freeze_per_mille: u32,
    /// Admin manual placements (a random user, level 1 or 2) interleaved with the events.
    pub place_per_mille: u32,
}

/// One step of a stream: a confirmed event or an admin action between events.
#[derive(Debug, Clone, PartialEq, Eq)]
// Generated one at a time for tests and the bench; the size difference never matters.
#[allow(clippy::large_enum_variant)]
pub enum StreamOp {
    /// A confirmed contract event to apply.
    Event(ChainEvent),
    /// An admin freezes this user (not currently frozen in the stream).
    Freeze(Address),
    /// An admin unfreezes this user (frozen earlier in the stream).
    Unfreeze(Address),
    /// An admin's manual placement of a user's node in a level, paid by the company (may be refused).
    Place(Address, u32),
}

/// An endless, seeded stream of operations; the same config yields the same stream.
#[derive(Debug, Clone)]
pub struct EventStream {
    cfg: StreamConfig,
    rng: u64,
    users: Vec<Address>,
    frozen: Vec<Address>,
    next_user: u64,
    block: u64,
    log_index: u64,
    emitted: u64,
}

/// The address of synthetic user `n` of stream `seed`.
pub fn user_address(seed: u64, n: u64) -> Address {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&seed.to_be_bytes());
    b[12..].copy_from_slice(&n.to_be_bytes());
    b[8] = 0x5e;
    Address::from(b)
}

impl EventStream {
    /// A stream whose only user is genesis, starting at block 1, log 0.
    pub fn new(cfg: StreamConfig) -> Self {
        let genesis = cfg.genesis;
        Self {
            rng: cfg.seed ^ 0x9e37_79b9_7f4a_7c15,
            cfg,
            users: vec![genesis],
            frozen: Vec::new(),
            next_user: 1,
            block: 1,
            log_index: 0,
            emitted: 0,
        }
    }

    /// splitmix64: small, fast and good enough to shape test data.
    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick_user(&mut self) -> Address {
        let i = self.below(self.users.len() as u64) as usize;
        self.users[i]
    }

    /// The next operation: an admin action at the configured rates, otherwise [`Self::next_event`].
    pub fn next_op(&mut self) -> StreamOp {
        let roll = self.below(1000) as u32;
        if roll < self.cfg.freeze_per_mille {
            if !self.frozen.is_empty() && self.below(2) == 0 {
                let i = self.below(self.frozen.len() as u64) as usize;
                return StreamOp::Unfreeze(self.frozen.swap_remove(i));
            }
            let u = self.pick_user();
            if let Some(i) = self.frozen.iter().position(|f| *f == u) {
                return StreamOp::Unfreeze(self.frozen.swap_remove(i));
            }
            self.frozen.push(u);
            return StreamOp::Freeze(u);
        }
        if roll < self.cfg.freeze_per_mille + self.cfg.place_per_mille {
            let level = 1 + self.below(2) as u32;
            return StreamOp::Place(self.pick_user(), level);
        }
        StreamOp::Event(self.next_event())
    }

    /// The next event (admin actions skipped).
    pub fn next_event(&mut self) -> ChainEvent {
        let token = self.cfg.token;
        let nonce = U256::from(self.emitted);
        let invalid = self.below(1000) < u64::from(self.cfg.invalid_per_mille);
        let retopup = self.below(1000) < u64::from(self.cfg.retopup_per_mille);
        let body = if retopup {
            let (user, amount) = match (invalid, self.below(2)) {
                (true, 0) => (user_address(!self.cfg.seed, self.below(1 << 20)), self.cfg.retopup_fee),
                (true, _) => (self.pick_user(), self.cfg.retopup_fee + 1),
                (false, _) => (self.pick_user(), self.cfg.retopup_fee),
            };
            EventBody::Retopped { user, token, amount: U256::from(amount), nonce }
        } else {
            let sponsor = self.pick_user();
            let (user, sponsor, amount) = match (invalid, self.below(3)) {
                (true, 0) => (self.pick_user(), sponsor, self.cfg.registration_fee),
                (true, 1) => {
                    let ghost = user_address(!self.cfg.seed, self.below(1 << 20));
                    (user_address(self.cfg.seed, self.next_user), ghost, self.cfg.registration_fee)
                }
                (true, _) => (user_address(self.cfg.seed, self.next_user), sponsor, self.cfg.registration_fee - 1),
                (false, _) => {
                    let u = user_address(self.cfg.seed, self.next_user);
                    self.next_user += 1;
                    self.users.push(u);
                    (u, sponsor, self.cfg.registration_fee)
                }
            };
            EventBody::Registered { user, sponsor, token, amount: U256::from(amount), nonce }
        };
        let event = ChainEvent {
            contract: alloy::primitives::Address::ZERO,
            key: EventKey {
                chain_id: self.cfg.chain_id,
                tx_hash: B256::from(keccak256([self.cfg.seed.to_be_bytes(), self.emitted.to_be_bytes()].concat())),
                log_index: self.log_index,
            },
            block_number: self.block,
            block_timestamp: 1_700_000_000 + 3 * self.block,
            body,
        };
        self.emitted += 1;
        self.log_index += 1;
        if self.log_index == self.cfg.events_per_block {
            self.block += 1;
            self.log_index = 0;
        }
        event
    }
}

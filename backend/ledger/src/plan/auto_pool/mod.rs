//! The auto-pool plan of PLAN.md in its room: its rules (the engine, [`PlanEngine`]), its own outcome
//! ([`PoolOutcome`]: the shared [`EventOutcome`] with the nodes placed and the reserves moved), its rows (placements,
//! pools, reserves and their movements) and their loader, and the one admin action only it has (a manual
//! placement). The ledger knows it through [`crate::plan::room`] only.

use std::ops::{Deref, DerefMut};

use super::vocabulary::{Amount, ConservationError, EventOutcome, RewardStatus, UserNo};

mod book;
mod engine;

pub(crate) use book::{ROOM, load_engine};
pub use engine::{PlanEngine, PoolNode};

/// Why a placement happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementCause {
    /// A sponsor's pool entry funded by a registration fee (§2.2).
    PoolEntry,
    /// Bought with the owner's reserve; `parent` is the placement whose credit filled it.
    AutoProgression {
        /// Index into [`PoolOutcome::placements`] of the placement whose reserved POOL_L3 credit triggered it.
        parent: usize,
    },
}

/// A node placed in a level's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Number of the placement within the asset (the `placements` row key).
    pub placement_no: u64,
    /// User who owns the new node.
    pub owner: UserNo,
    /// Level of the tree the node is placed in (1-based).
    pub level: u32,
    /// Heap index of the new node in the level's tree.
    pub position: u64,
    /// Price paid for the node; its credits and company part sum to it.
    pub amount: Amount,
    /// Pool entry or auto-progression.
    pub cause: PlacementCause,
    /// Heap index of the ancestor whose matrix this placement completed (slot 14).
    pub completed: Option<u64>,
}

/// A change of a user's reserve towards `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveMovement {
    /// Number of the movement within the asset (the `reserve_movements` row key).
    pub movement_no: u64,
    /// Owner of the reserve.
    pub user: UserNo,
    /// The level the reserve saves towards.
    pub level: u32,
    /// Credit added or price taken.
    pub change: ReserveChange,
    /// The reserve after this movement.
    pub balance_after: Amount,
}

/// Why a reserve moved: a reserved credit added to it, or an auto-progression's price taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveChange {
    /// A reserved POOL_L3 credit (index into [`EventOutcome::credits`]).
    Credit {
        /// Index into [`EventOutcome::credits`] of the reserved POOL_L3 credit.
        credit: usize,
        /// Base units added to the reserve: the whole credit.
        amount: Amount,
    },
    /// The price of an auto-progression (index into [`PoolOutcome::placements`]).
    Take {
        /// Index into [`PoolOutcome::placements`] of the auto-progression the price paid for.
        placement: usize,
        /// Base units taken from the reserve: the `level_price` of the level placed in.
        amount: Amount,
    },
}

/// Everything one applied event (or manual placement) of the auto-pool plan did: the shared outcome, and the nodes
/// placed and reserves moved, to which its credits and company credits refer by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOutcome {
    /// The event's credits, company credits and facts, as every plan gives them.
    pub event: EventOutcome,
    /// Every node placed: the pool entry first, then auto-progressions depth-first.
    pub placements: Vec<Placement>,
    /// Every reserve credit and price taken, in order.
    pub reserve_movements: Vec<ReserveMovement>,
}

impl Deref for PoolOutcome {
    type Target = EventOutcome;

    fn deref(&self) -> &EventOutcome {
        &self.event
    }
}

impl DerefMut for PoolOutcome {
    fn deref_mut(&mut self) -> &mut EventOutcome {
        &mut self.event
    }
}

impl PoolOutcome {
    /// An outcome with no rows yet, of event `seq` under `plan_version`, by `user` paying `amount`.
    pub fn new(seq: u64, plan_version: u32, user: UserNo, amount: Amount) -> Self {
        Self {
            event: EventOutcome::new(seq, plan_version, user, amount),
            placements: Vec::new(),
            reserve_movements: Vec::new(),
        }
    }

    /// PLAN.md §7.1: the event's amount equals its own credits plus its company credit, and
    /// every auto-progression's price equals that placement's credits plus company credit; the
    /// reserve movements match the reserved credits and the prices taken.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        // Group 0 is the event itself; group i+1 is auto-progression placement i.
        let group = |placement: Option<usize>| match placement {
            Some(i) => match self.placements[i].cause {
                PlacementCause::PoolEntry => 0,
                PlacementCause::AutoProgression { .. } => i + 1,
            },
            None => 0,
        };
        let mut out = vec![0u128; self.placements.len() + 1];
        for c in &self.event.credits {
            out[group(c.placement)] += c.amount;
        }
        for c in &self.event.company {
            out[group(c.placement)] += c.amount;
        }
        let mut input = vec![0u128; self.placements.len() + 1];
        input[0] = self.event.amount;
        for (i, p) in self.placements.iter().enumerate() {
            if let PlacementCause::AutoProgression { .. } = p.cause {
                input[i + 1] = p.amount;
            }
        }
        for (g, (i, o)) in input.iter().zip(&out).enumerate() {
            if i != o {
                return Err(ConservationError {
                    what: if g == 0 {
                        format!("event {}", self.event.seq)
                    } else {
                        format!("auto-progression {}", self.placements[g - 1].placement_no)
                    },
                    input: *i,
                    output: *o,
                });
            }
        }
        for m in &self.reserve_movements {
            let ok = match m.change {
                ReserveChange::Credit { credit, amount } => {
                    let c = &self.event.credits[credit];
                    c.status == RewardStatus::Reserved && c.amount == amount && c.beneficiary == m.user
                }
                ReserveChange::Take { placement, amount } => {
                    let p = &self.placements[placement];
                    p.amount == amount && p.owner == m.user && p.level == m.level
                }
            };
            if !ok {
                return Err(ConservationError {
                    what: format!("reserve movement {}", m.movement_no),
                    input: 0,
                    output: 0,
                });
            }
        }
        let reserved_credits = self.event.credits.iter().filter(|c| c.status == RewardStatus::Reserved).count();
        let credit_moves =
            self.reserve_movements.iter().filter(|m| matches!(m.change, ReserveChange::Credit { .. })).count();
        if reserved_credits != credit_moves {
            return Err(ConservationError {
                what: "reserved credits without reserve movement".into(),
                input: reserved_credits as u128,
                output: credit_moves as u128,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

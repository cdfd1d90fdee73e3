//! The binary tree of one asset (PLAN-BINARY.md §1–§2) with every question the apply path asks of it answered
//! in O(log n), whatever the tree's shape:
//!
//! - **Placement** (§2): the first free slot breadth-first under a node. Each node keeps `gap`, the depth (from
//!   it) of the shallowest node with a free slot in its subtree: 0 when it has a free slot itself, else
//!   1 + the smaller of its children's. The first free slot breadth-first is found by walking down from the
//!   node to the child with the smaller `gap`, the left one on a tie (a left subtree's nodes come before the
//!   right's on every level). A subtree whose `gap` is d holds at least 2^d − 1 nodes, so the walk and the
//!   update after a placement (up the ancestors while their `gap` changes, each by one more than the last)
//!   are both at most log2(n) + 1 steps.
//! - **Legs** (§1): leg(X, s) is the volume of the subtree under X's child on side s. Nodes only ever join as
//!   leaves, so each node's own volume is kept once, in the order of an Euler tour of the tree (an opening
//!   token carrying the node's volume, a closing token carrying none, a child's tokens inside its parent's),
//!   held in a treap with parent pointers: a subtree's volume is the sum between its node's two tokens, two
//!   prefix sums of O(log n) expected steps each; a purchase adds its volume to one token and the sums on the
//!   way up; a new leaf is two tokens inserted before its parent's closing token. No purchase visits its
//!   ancestors, so a chain of 100,000 members costs a purchase what a balanced tree does.
//!
//! At a period's close every leg is needed at once: [`BinaryTree::subtree_volumes`] computes them all in one
//! pass from the last node to the first (a child is always placed after its parent).

use super::super::vocabulary::{Amount, UserNo};

/// A side of a node: left (0) or right (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The left side; chosen on a tie.
    Left,
    /// The right side.
    Right,
}

impl Side {
    /// The side's index in a node's `children`.
    pub fn index(self) -> usize {
        match self {
            Self::Left => 0,
            Self::Right => 1,
        }
    }

    /// The name stored and shown (`left`, `right`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Right => "right",
        }
    }

    /// The side named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "left" => Some(Self::Left),
            "right" => Some(Self::Right),
            _ => None,
        }
    }
}

const NIL: u32 = u32::MAX;

/// One node of the binary tree (one per user, genesis the root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// The binary parent and this node's side under it; `None` for genesis.
    pub parent: Option<(UserNo, Side)>,
    /// The children, left then right.
    pub children: [Option<UserNo>; 2],
    /// Depth below this node of the shallowest node with a free slot in its subtree (0: this node has one).
    gap: u32,
}

/// The treap over the Euler tour: token 2u opens user u (carrying u's own volume), token 2u + 1 closes it.
#[derive(Debug, Clone, Default)]
struct Tour {
    left: Vec<u32>,
    right: Vec<u32>,
    up: Vec<u32>,
    priority: Vec<u64>,
    value: Vec<Amount>,
    sum: Vec<Amount>,
    root: u32,
}

/// A fixed pseudo-random priority per token (SplitMix64): the treap's shape, and so its cost, is the same on
/// every replay.
fn priority(token: u32) -> u64 {
    let mut z = u64::from(token).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Tour {
    fn with_capacity(users: usize) -> Self {
        let n = users * 2;
        Self {
            left: Vec::with_capacity(n),
            right: Vec::with_capacity(n),
            up: Vec::with_capacity(n),
            priority: Vec::with_capacity(n),
            value: Vec::with_capacity(n),
            sum: Vec::with_capacity(n),
            root: NIL,
        }
    }

    fn sum_of(&self, t: u32) -> Amount {
        if t == NIL { 0 } else { self.sum[t as usize] }
    }

    fn new_token(&mut self) -> u32 {
        let t = self.left.len() as u32;
        self.left.push(NIL);
        self.right.push(NIL);
        self.up.push(NIL);
        self.priority.push(priority(t));
        self.value.push(0);
        self.sum.push(0);
        t
    }

    fn refresh(&mut self, t: u32) {
        let i = t as usize;
        self.sum[i] = self.sum_of(self.left[i]) + self.value[i] + self.sum_of(self.right[i]);
    }

    /// Rotates `t` above its parent, keeping the tour's order.
    fn rotate_up(&mut self, t: u32) {
        let p = self.up[t as usize];
        let g = self.up[p as usize];
        if self.left[p as usize] == t {
            let b = self.right[t as usize];
            self.left[p as usize] = b;
            if b != NIL {
                self.up[b as usize] = p;
            }
            self.right[t as usize] = p;
        } else {
            let b = self.left[t as usize];
            self.right[p as usize] = b;
            if b != NIL {
                self.up[b as usize] = p;
            }
            self.left[t as usize] = p;
        }
        self.up[p as usize] = t;
        self.up[t as usize] = g;
        if g == NIL {
            self.root = t;
        } else if self.left[g as usize] == p {
            self.left[g as usize] = t;
        } else {
            self.right[g as usize] = t;
        }
        self.refresh(p);
        self.refresh(t);
    }

    /// Inserts a new token (value 0) right before token `before`, or at the end of the tour with `NIL`.
    fn insert_before(&mut self, before: u32) -> u32 {
        let t = self.new_token();
        if self.root == NIL {
            self.root = t;
            return t;
        }
        let mut at = if before == NIL { self.root } else { before };
        if before != NIL && self.left[at as usize] != NIL {
            at = self.left[at as usize];
        }
        let goes_right = before == NIL || at != before;
        if goes_right {
            while self.right[at as usize] != NIL {
                at = self.right[at as usize];
            }
            self.right[at as usize] = t;
        } else {
            self.left[at as usize] = t;
        }
        // A new token carries 0: no sum above it changes until it rotates.
        self.up[t as usize] = at;
        while self.up[t as usize] != NIL && self.priority[self.up[t as usize] as usize] < self.priority[t as usize] {
            self.rotate_up(t);
        }
        t
    }

    fn add(&mut self, t: u32, amount: Amount) {
        self.value[t as usize] += amount;
        let mut at = t;
        while at != NIL {
            self.sum[at as usize] += amount;
            at = self.up[at as usize];
        }
    }

    /// Σ of the values of the tokens before `t` in the tour.
    fn before(&self, t: u32) -> Amount {
        let mut total = self.sum_of(self.left[t as usize]);
        let mut at = t;
        while self.up[at as usize] != NIL {
            let p = self.up[at as usize];
            if self.right[p as usize] == at {
                total += self.sum_of(self.left[p as usize]) + self.value[p as usize];
            }
            at = p;
        }
        total
    }
}

/// An asset's binary tree and each node's own volume; see the module documentation.
#[derive(Debug, Clone)]
pub struct BinaryTree {
    nodes: Vec<Node>,
    tour: Tour,
}

impl BinaryTree {
    /// A tree of genesis (user 0) alone.
    pub fn new() -> Self {
        Self::with_capacity(1)
    }

    /// A tree of genesis alone, with room for `users` nodes.
    pub fn with_capacity(users: usize) -> Self {
        let mut tour = Tour::with_capacity(users.max(1));
        let open = tour.insert_before(NIL);
        let close = tour.insert_before(NIL);
        debug_assert_eq!((open, close), (0, 1));
        Self { nodes: vec![Node { parent: None, children: [None, None], gap: 0 }], tour }
    }

    /// The number of nodes (users, genesis included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only genesis is here (never empty).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// User `u`'s node.
    pub fn node(&self, u: UserNo) -> &Node {
        &self.nodes[u as usize]
    }

    /// The child of `u` on `side`.
    pub fn child(&self, u: UserNo, side: Side) -> Option<UserNo> {
        self.nodes[u as usize].children[side.index()]
    }

    /// Σ of the own volumes of `u` and everyone below.
    pub fn subtree_volume(&self, u: UserNo) -> Amount {
        let (open, close) = (2 * u, 2 * u + 1);
        self.tour.before(close) - self.tour.before(open)
    }

    /// leg(u, side): the volume of the subtree under u's child on that side (0 without one).
    pub fn leg(&self, u: UserNo, side: Side) -> Amount {
        self.child(u, side).map_or(0, |c| self.subtree_volume(c))
    }

    /// u's own volume (its purchases' pv).
    pub fn own_volume(&self, u: UserNo) -> Amount {
        self.tour.value[2 * u as usize]
    }

    /// Adds `pv` to u's own volume: every ancestor's leg on u's side grows by it.
    pub fn add_volume(&mut self, u: UserNo, pv: Amount) {
        self.tour.add(2 * u, pv);
    }

    /// Where the next user under `sponsor` goes (§2): the sponsor's weaker leg (left on a tie), its child on that
    /// side if free, else the first free slot breadth-first below that child.
    pub fn slot_under(&self, sponsor: UserNo) -> (UserNo, Side) {
        let side =
            if self.leg(sponsor, Side::Right) < self.leg(sponsor, Side::Left) { Side::Right } else { Side::Left };
        let Some(mut at) = self.child(sponsor, side) else { return (sponsor, side) };
        loop {
            let n = &self.nodes[at as usize];
            match n.children {
                [None, _] => return (at, Side::Left),
                [Some(_), None] => return (at, Side::Right),
                [Some(l), Some(r)] => {
                    at = if self.nodes[r as usize].gap < self.nodes[l as usize].gap { r } else { l };
                }
            }
        }
    }

    /// Places a new user (the next number) under `parent` on `side`, which must be free; returns its number.
    pub fn attach(&mut self, parent: UserNo, side: Side) -> UserNo {
        let u = self.nodes.len() as UserNo;
        assert!(self.nodes[parent as usize].children[side.index()].is_none(), "slot {parent}/{side:?} is taken");
        self.nodes.push(Node { parent: Some((parent, side)), children: [None, None], gap: 0 });
        self.nodes[parent as usize].children[side.index()] = Some(u);
        let parent_close = 2 * parent + 1;
        let open = self.tour.insert_before(parent_close);
        let close = self.tour.insert_before(parent_close);
        debug_assert_eq!((open, close), (2 * u, 2 * u + 1));
        // Up the ancestors while the depth of their shallowest free slot changes.
        let mut at = Some(parent);
        while let Some(a) = at {
            let gap = match self.nodes[a as usize].children {
                [Some(l), Some(r)] => 1 + self.nodes[l as usize].gap.min(self.nodes[r as usize].gap),
                _ => 0,
            };
            if gap == self.nodes[a as usize].gap {
                break;
            }
            self.nodes[a as usize].gap = gap;
            at = self.nodes[a as usize].parent.map(|(p, _)| p);
        }
        u
    }

    /// Every node's subtree volume, by number, in one pass (children are numbered after their parents).
    pub fn subtree_volumes(&self) -> Vec<Amount> {
        let mut sub: Vec<Amount> = (0..self.nodes.len() as UserNo).map(|u| self.own_volume(u)).collect();
        for u in (1..self.nodes.len()).rev() {
            if let Some((p, _)) = self.nodes[u].parent {
                sub[p as usize] += sub[u];
            }
        }
        sub
    }
}

impl Default for BinaryTree {
    fn default() -> Self {
        Self::new()
    }
}

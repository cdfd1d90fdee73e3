//! The Merkle-sum tree of SOLVENCY.md, pure: one leaf per user of an asset (zero balances included, the company
//! excluded), every parent hashing both children's sums, leaves ordered by their hash, padded to a power of two.
//! Integers are fixed-width big-endian; every value and sum must stay below 2^128.

use alloy::primitives::{Address, B256, keccak256};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Domain tag of the salt's HMAC message.
const SALT_TAG: &[u8] = b"solvency/v1";
/// Bytes of one stored node: its hash and its sum (u128).
pub const NODE_BYTES: usize = 48;
/// Deepest tree built or verified (2^32 leaves: the leaf count is a u32 on-chain).
pub const MAX_DEPTH: usize = 32;

/// What every leaf and padding node of one tree commits to besides the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeContext {
    /// The chain id as configured (TRON's full id).
    pub chain_id: u64,
    /// The Settlement contract.
    pub contract: Address,
    /// The asset's token (the zero address for the native coin).
    pub token: Address,
    /// The epoch: 1 for the asset's first commitment.
    pub epoch: u64,
}

/// A user's liabilities (PLAN.md §7 invariant 4), by status, in base units.
///
/// `maturing` is `Some` in every leaf of a sales-plan asset (SOLVENCY.md's sixth component: retail commissions whose
/// sale the buyer can still take back), `None` in every other asset's: its presence, not its value, makes the leaf a
/// 0x03 one, so that a five-component verifier refuses it instead of misreading it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    /// Reserved for the user's pool upgrades.
    pub reserved: u128,
    /// Credited while frozen.
    pub held: u128,
    /// Owed, not yet in a batch.
    pub pending: u128,
    /// In a payout batch not yet settled.
    pub batched: u128,
    /// Deferred by the contract: the user may claim it.
    pub claimable: u128,
    /// Retail commissions still maturing (sales-plan assets only: their leaves are 0x03 ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maturing: Option<u128>,
}

impl Balances {
    /// The leaf's value: the sum of the five (six with `maturing`), or `None` at 2^128 and above.
    pub fn value(&self) -> Option<u128> {
        [self.held, self.pending, self.batched, self.claimable, self.maturing.unwrap_or(0)]
            .iter()
            .try_fold(self.reserved, |sum, v| sum.checked_add(*v))
    }

    /// The leaf's first byte: 0x03 for a sales-plan leaf (six components), 0x00 otherwise.
    pub fn leaf_tag(&self) -> u8 {
        if self.maturing.is_some() { SALES_LEAF_TAG } else { LEAF_TAG }
    }
}

/// First byte of a five-component leaf.
pub const LEAF_TAG: u8 = 0x00;
/// First byte of a sales-plan leaf, whose sixth component is `maturing` (SOLVENCY.md).
pub const SALES_LEAF_TAG: u8 = 0x03;

/// A node: its hash and the sum of the values below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// keccak256 of the node's preimage.
    pub hash: B256,
    /// Σ of the leaf values below (a leaf: its value).
    pub sum: u128,
}

impl Node {
    /// The node as stored: hash ‖ sum u128.
    pub fn to_bytes(self) -> [u8; NODE_BYTES] {
        let mut out = [0; NODE_BYTES];
        out[..32].copy_from_slice(self.hash.as_slice());
        out[32..].copy_from_slice(&self.sum.to_be_bytes());
        out
    }

    /// A node stored by [`to_bytes`](Self::to_bytes); `None` for another length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != NODE_BYTES {
            return None;
        }
        Some(Node { hash: B256::from_slice(&bytes[..32]), sum: u128::from_be_bytes(bytes[32..].try_into().ok()?) })
    }
}

/// Why a tree could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A user's five balances add up to 2^128 or more.
    #[error("the balances of {0} add up to 2^128 or more")]
    ValueOverflow(Address),
    /// The total of all leaves reaches 2^128: it cannot be committed as a uint128.
    #[error("the total reaches 2^128")]
    SumOverflow,
    /// The same user twice.
    #[error("{0} is given twice")]
    DuplicateUser(Address),
    /// More leaves than a u32 leaf count holds.
    #[error("{0} leaves are more than 2^32")]
    TooManyLeaves(usize),
    /// Some leaves with `maturing` and some without: every leaf of an asset is of its plan's kind.
    #[error("{0} has a leaf of another kind than the tree's first")]
    MixedLeaves(Address),
}

/// salt = HMAC-SHA256(K, "solvency/v1" ‖ chainId u64 ‖ token 20B ‖ epoch u64 ‖ user 20B): unguessable without K,
/// so a leaf's hash reveals nothing about its balances to whoever sees a sibling.
pub fn salt(key: &[u8; 32], ctx: &TreeContext, user: Address) -> B256 {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(SALT_TAG);
    mac.update(&ctx.chain_id.to_be_bytes());
    mac.update(ctx.token.as_slice());
    mac.update(&ctx.epoch.to_be_bytes());
    mac.update(user.as_slice());
    B256::from_slice(&mac.finalize().into_bytes())
}

/// leaf = keccak256(0x00 ‖ chainId u64 ‖ contract 20B ‖ token 20B ‖ epoch u64 ‖ user 20B ‖ reserved u128 ‖ held u128
/// ‖ pending u128 ‖ batched u128 ‖ claimable u128 ‖ salt 32B); a sales-plan leaf: 0x03 first and `maturing u128` after
/// `claimable` (205 bytes).
pub fn leaf_hash(ctx: &TreeContext, user: Address, b: &Balances, salt: B256) -> B256 {
    let mut pre = Vec::with_capacity(205);
    pre.push(b.leaf_tag());
    pre.extend_from_slice(&ctx.chain_id.to_be_bytes());
    pre.extend_from_slice(ctx.contract.as_slice());
    pre.extend_from_slice(ctx.token.as_slice());
    pre.extend_from_slice(&ctx.epoch.to_be_bytes());
    pre.extend_from_slice(user.as_slice());
    for v in [b.reserved, b.held, b.pending, b.batched, b.claimable] {
        pre.extend_from_slice(&v.to_be_bytes());
    }
    if let Some(maturing) = b.maturing {
        pre.extend_from_slice(&maturing.to_be_bytes());
    }
    pre.extend_from_slice(salt.as_slice());
    keccak256(&pre)
}

/// parent = keccak256(0x01 ‖ hashL ‖ sumL u128 ‖ hashR ‖ sumR u128), sum = sumL + sumR; `None` at 2^128 and above.
pub fn parent(left: Node, right: Node) -> Option<Node> {
    let sum = left.sum.checked_add(right.sum)?;
    let mut pre = [0u8; 97];
    pre[0] = 0x01;
    pre[1..49].copy_from_slice(&left.to_bytes());
    pre[49..].copy_from_slice(&right.to_bytes());
    Some(Node { hash: keccak256(pre), sum })
}

/// The padding leaf at `index`: keccak256(0x02 ‖ chainId u64 ‖ token 20B ‖ epoch u64 ‖ index u32), value 0.
pub fn padding(ctx: &TreeContext, index: u32) -> Node {
    let mut pre = [0u8; 41];
    pre[0] = 0x02;
    pre[1..9].copy_from_slice(&ctx.chain_id.to_be_bytes());
    pre[9..29].copy_from_slice(ctx.token.as_slice());
    pre[29..37].copy_from_slice(&ctx.epoch.to_be_bytes());
    pre[37..].copy_from_slice(&index.to_be_bytes());
    Node { hash: keccak256(pre), sum: 0 }
}

/// The least depth whose 2^depth leaves hold `leaf_count` (0 for none or one).
pub fn depth_for(leaf_count: usize) -> usize {
    leaf_count.max(1).next_power_of_two().trailing_zeros() as usize
}

/// One user's leaf, as built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The user.
    pub user: Address,
    /// Their liabilities.
    pub balances: Balances,
    /// Their salt.
    pub salt: B256,
    /// The leaf node (hash and value).
    pub node: Node,
}

/// A built tree: the leaves in tree order (ascending hash) and every level, leaves (with padding) first.
#[derive(Debug, Clone)]
pub struct SolvencyTree {
    /// What every node commits to.
    pub ctx: TreeContext,
    /// The users' leaves at indexes 0..leaf_count, ascending by hash.
    pub leaves: Vec<Leaf>,
    /// `levels[0]` = the leaves then the padding; the last level is `[root]`.
    pub levels: Vec<Vec<Node>>,
}

impl SolvencyTree {
    /// Builds the tree of `users` (each with their liabilities); the salts come from `key`.
    pub fn build(ctx: TreeContext, key: &[u8; 32], users: &[(Address, Balances)]) -> Result<Self, TreeError> {
        if users.len() > u32::MAX as usize {
            return Err(TreeError::TooManyLeaves(users.len()));
        }
        let mut leaves = Vec::with_capacity(users.len());
        let tag = users.first().map(|(_, b)| b.leaf_tag());
        for (user, balances) in users {
            if Some(balances.leaf_tag()) != tag {
                return Err(TreeError::MixedLeaves(*user));
            }
            let value = balances.value().ok_or(TreeError::ValueOverflow(*user))?;
            let salt = salt(key, &ctx, *user);
            let hash = leaf_hash(&ctx, *user, balances, salt);
            leaves.push(Leaf { user: *user, balances: *balances, salt, node: Node { hash, sum: value } });
        }
        leaves.sort_unstable_by_key(|l| l.node.hash);
        let mut seen: Vec<Address> = leaves.iter().map(|l| l.user).collect();
        seen.sort_unstable();
        if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
            return Err(TreeError::DuplicateUser(w[0]));
        }
        let width = 1usize << depth_for(leaves.len());
        let mut level: Vec<Node> = leaves.iter().map(|l| l.node).collect();
        // Indexes below 2^32 (checked above).
        level.extend((leaves.len()..width).map(|i| padding(&ctx, i as u32)));
        let mut levels = vec![level];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("a level");
            let next = below
                .chunks_exact(2)
                .map(|pair| parent(pair[0], pair[1]).ok_or(TreeError::SumOverflow))
                .collect::<Result<Vec<_>, _>>()?;
            levels.push(next);
        }
        Ok(SolvencyTree { ctx, leaves, levels })
    }

    /// The root.
    pub fn root(&self) -> Node {
        self.levels.last().and_then(|l| l.first()).copied().expect("a tree has a root")
    }

    /// Levels below the root.
    pub fn depth(&self) -> usize {
        self.levels.len() - 1
    }

    /// How many users' leaves.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// The siblings of the leaf at `index`, bottom-up; `None` past the users' leaves.
    pub fn proof(&self, index: usize) -> Option<Vec<Node>> {
        if index >= self.leaves.len() {
            return None;
        }
        Some(self.levels[..self.depth()].iter().enumerate().map(|(k, level)| level[(index >> k) ^ 1]).collect())
    }

    /// Level `k` as stored: each node's [`Node::to_bytes`], in index order.
    pub fn level_bytes(&self, k: usize) -> Vec<u8> {
        self.levels[k].iter().flat_map(|n| n.to_bytes()).collect()
    }
}

/// Folds a leaf at `index` with its siblings (bottom-up) to the root they imply; `None` when a sum reaches 2^128.
pub fn fold(leaf: Node, index: u64, siblings: &[Node]) -> Option<Node> {
    siblings.iter().enumerate().try_fold(leaf, |node, (k, sibling)| {
        if (index >> k) & 1 == 0 { parent(node, *sibling) } else { parent(*sibling, node) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> TreeContext {
        TreeContext {
            chain_id: 31_337,
            contract: Address::repeat_byte(0xcc),
            token: Address::repeat_byte(0x70),
            epoch: 3,
        }
    }

    fn users(values: &[u128]) -> Vec<(Address, Balances)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut a = [0u8; 20];
                a[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                (Address::from(a), Balances { pending: *v / 2, claimable: *v - *v / 2, ..Balances::default() })
            })
            .collect()
    }

    const KEY: [u8; 32] = [7; 32];

    fn arb_users() -> impl Strategy<Value = Vec<(Address, Balances)>> {
        prop::collection::vec(0u128..(1u128 << 100), 1..40).prop_map(|v| users(&v))
    }

    proptest! {
        #[test]
        fn every_users_proof_folds_to_the_root_and_the_root_sums_every_value(list in arb_users()) {
            let tree = SolvencyTree::build(ctx(), &KEY, &list).unwrap();
            let total: u128 = list.iter().map(|(_, b)| b.value().unwrap()).sum();
            prop_assert_eq!(tree.root().sum, total);
            prop_assert_eq!(tree.leaf_count(), list.len());
            prop_assert!(tree.leaves.windows(2).all(|w| w[0].node.hash < w[1].node.hash));
            for (i, leaf) in tree.leaves.iter().enumerate() {
                prop_assert_eq!(fold(leaf.node, i as u64, &tree.proof(i).unwrap()), Some(tree.root()));
            }
        }

        #[test]
        fn any_change_of_a_leaf_a_sibling_a_sum_or_the_order_misses_the_root(
            list in arb_users(), pick in any::<prop::sample::Index>(), level in any::<prop::sample::Index>(),
            delta in 1u128..1000,
        ) {
            let tree = SolvencyTree::build(ctx(), &KEY, &list).unwrap();
            let i = pick.index(tree.leaf_count());
            let leaf = &tree.leaves[i];
            let proof = tree.proof(i).unwrap();
            let root = tree.root();
            // A lowered balance.
            let mut lower = leaf.balances;
            lower.claimable = lower.claimable.saturating_sub(delta);
            lower.pending = lower.pending.saturating_sub(delta);
            if lower != leaf.balances {
                let node = Node { hash: leaf_hash(&tree.ctx, leaf.user, &lower, leaf.salt), sum: lower.value().unwrap() };
                prop_assert_ne!(fold(node, i as u64, &proof), Some(root));
            }
            // The same hash with another value.
            let other = Node { hash: leaf.node.hash, sum: leaf.node.sum + delta };
            prop_assert_ne!(fold(other, i as u64, &proof), Some(root));
            if !proof.is_empty() {
                let k = level.index(proof.len());
                // A sibling's hash or its sum changed.
                let mut forged = proof.clone();
                forged[k].hash.0[0] ^= 1;
                prop_assert_ne!(fold(leaf.node, i as u64, &forged), Some(root));
                let mut resummed = proof.clone();
                resummed[k].sum = resummed[k].sum.wrapping_add(delta);
                prop_assert_ne!(fold(leaf.node, i as u64, &resummed), Some(root));
                // The order swapped at one level.
                prop_assert_ne!(fold(leaf.node, i as u64 ^ (1 << k), &proof), Some(root));
            }
        }
    }

    #[test]
    fn sums_at_2_to_the_128_are_refused() {
        let max = Balances { pending: u128::MAX, ..Balances::default() };
        assert_eq!(
            SolvencyTree::build(
                ctx(),
                &KEY,
                &[
                    (Address::repeat_byte(1), max),
                    (Address::repeat_byte(2), Balances { held: 1, ..Balances::default() })
                ]
            )
            .unwrap_err(),
            TreeError::SumOverflow
        );
        let over = Balances { pending: u128::MAX, held: 1, ..Balances::default() };
        assert!(matches!(
            SolvencyTree::build(ctx(), &KEY, &[(Address::repeat_byte(1), over)]),
            Err(TreeError::ValueOverflow(_))
        ));
        assert_eq!(parent(Node { hash: B256::ZERO, sum: u128::MAX }, Node { hash: B256::ZERO, sum: 1 }), None);
    }

    #[test]
    fn a_user_twice_is_refused_and_one_user_is_the_root() {
        let one = users(&[5]);
        let tree = SolvencyTree::build(ctx(), &KEY, &one).unwrap();
        assert_eq!((tree.depth(), tree.root()), (0, tree.leaves[0].node));
        assert_eq!(tree.proof(0), Some(vec![]));
        assert_eq!(tree.proof(1), None);
        let twice = [one[0], one[0]];
        assert_eq!(SolvencyTree::build(ctx(), &KEY, &twice).unwrap_err(), TreeError::DuplicateUser(one[0].0));
    }

    #[test]
    fn a_sales_leaf_is_a_0x03_leaf_of_six_components_and_folds_only_as_one() {
        let sales: Vec<(Address, Balances)> = users(&[10, 0, 7])
            .into_iter()
            .zip([3u128, 0, 1 << 100])
            .map(|((a, b), m)| (a, Balances { maturing: Some(m), ..b }))
            .collect();
        let tree = SolvencyTree::build(ctx(), &KEY, &sales).unwrap();
        assert_eq!(tree.root().sum, 10 + 3 + 7 + (1 << 100), "maturing counts in the total");
        for (i, leaf) in tree.leaves.iter().enumerate() {
            let proof = tree.proof(i).unwrap();
            assert_eq!(fold(leaf.node, i as u64, &proof), Some(tree.root()));
            // The preimage: 0x03, then the five, then maturing, then the salt.
            let b = leaf.balances;
            let mut pre = vec![0x03];
            pre.extend_from_slice(&ctx().chain_id.to_be_bytes());
            pre.extend_from_slice(ctx().contract.as_slice());
            pre.extend_from_slice(ctx().token.as_slice());
            pre.extend_from_slice(&ctx().epoch.to_be_bytes());
            pre.extend_from_slice(leaf.user.as_slice());
            for v in [b.reserved, b.held, b.pending, b.batched, b.claimable, b.maturing.unwrap()] {
                pre.extend_from_slice(&v.to_be_bytes());
            }
            pre.extend_from_slice(leaf.salt.as_slice());
            assert_eq!((pre.len(), keccak256(&pre)), (205, leaf.node.hash));
            // Read as a five-component leaf (maturing dropped), or with maturing lowered, it misses the root.
            let five = Balances { maturing: None, ..b };
            let node = Node { hash: leaf_hash(&tree.ctx, leaf.user, &five, leaf.salt), sum: five.value().unwrap() };
            assert_ne!(fold(node, i as u64, &proof), Some(tree.root()));
            if let Some(m @ 1..) = b.maturing {
                let lower = Balances { maturing: Some(m - 1), ..b };
                let node =
                    Node { hash: leaf_hash(&tree.ctx, leaf.user, &lower, leaf.salt), sum: lower.value().unwrap() };
                assert_ne!(fold(node, i as u64, &proof), Some(tree.root()));
            }
        }
        // maturing 0 is still a 0x03 leaf: its hash is not the five-component one.
        let zero = Balances { maturing: Some(0), ..Balances::default() };
        let salt = salt(&KEY, &ctx(), Address::ZERO);
        assert_ne!(
            leaf_hash(&ctx(), Address::ZERO, &zero, salt),
            leaf_hash(&ctx(), Address::ZERO, &Balances::default(), salt)
        );
        // Both kinds in one tree are refused.
        let mut mixed = sales.clone();
        mixed.push((Address::repeat_byte(9), Balances::default()));
        assert_eq!(
            SolvencyTree::build(ctx(), &KEY, &mixed).unwrap_err(),
            TreeError::MixedLeaves(Address::repeat_byte(9))
        );
        // Six components past 2^128 are refused.
        let over = Balances { pending: u128::MAX, maturing: Some(1), ..Balances::default() };
        assert!(matches!(
            SolvencyTree::build(ctx(), &KEY, &[(Address::repeat_byte(1), over)]),
            Err(TreeError::ValueOverflow(_))
        ));
        // The JSON shape: `maturing` only on a sales leaf.
        assert!(!serde_json::to_string(&Balances::default()).unwrap().contains("maturing"));
        let back: Balances = serde_json::from_str(&serde_json::to_string(&zero).unwrap()).unwrap();
        assert_eq!(back, zero);
    }

    #[test]
    fn nodes_round_trip_through_their_stored_bytes() {
        let n = Node { hash: B256::repeat_byte(0xab), sum: 123_456_789 };
        assert_eq!(Node::from_bytes(&n.to_bytes()), Some(n));
        assert_eq!(Node::from_bytes(&[0; 47]), None);
        assert_eq!(depth_for(0), 0);
        assert_eq!(depth_for(1), 0);
        assert_eq!(depth_for(2), 1);
        assert_eq!(depth_for(5), 3);
        assert_eq!(depth_for(8), 3);
    }
}

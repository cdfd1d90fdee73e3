//! An independent verifier of the public proof of solvency (SOLVENCY.md, `solvency/v1`), written from the
//! specification and sharing no code with the ledger that builds the tree: a user's proof (their leaf's balances and
//! salt, its index and the siblings on its path) is folded to a root and a total, and both are compared with the
//! commitment read from the chain itself — never with what the operator's API says. Used by auditors through the
//! `solvency-verify` command and by the reconciler on sampled users at every run.
//!
//! What the proof names is not trusted either: an auditor checks it against their own sources ([`Sources`],
//! [`verify_with`]) — the chain id their node answers, the Settlement contract and token they were given (the
//! deployment's record), whether that contract ever allowed the token — so a tree committed under a contract of the
//! operator's choosing, or on another chain, is refused. Age is the chain's head against the commitment's
//! `asOfBlock` (how old the liabilities are), never the commit block (a fresh commitment of old liabilities is old).
//!
//! Integers are fixed-width big-endian, ‖ is concatenation:
//! - salt = HMAC-SHA256(K, "solvency/v1" ‖ chainId u64 ‖ token 20B ‖ epoch u64 ‖ user 20B)
//! - leaf = keccak256(0x00 ‖ chainId u64 ‖ contract 20B ‖ token 20B ‖ epoch u64 ‖ user 20B ‖ reserved u128 ‖ held u128
//!   ‖ pending u128 ‖ batched u128 ‖ claimable u128 ‖ salt 32B), its value the sum of the five; a sales-plan asset's
//!   leaf starts with 0x03 and has a sixth component, maturing u128, after claimable (its value the sum of the six):
//!   a proof whose balances carry `maturing` is of such a leaf, one without it of a 0x00 leaf
//! - parent = keccak256(0x01 ‖ hashL ‖ sumL u128 ‖ hashR ‖ sumR u128), sum = sumL + sumR, below 2^128
//! - at level k the node is the left child when bit k of the leaf's index is 0.

pub mod chain;
pub mod exit;

use alloy::primitives::{Address, B256, U256, keccak256};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The proof format this verifier reads.
pub const VERSION: &str = "solvency/v1";
/// Largest proof file read (a proof of 32 levels is under 6 kB).
pub const MAX_PROOF_BYTES: usize = 64 * 1024;
/// Deepest tree: the leaf count is a u32 on-chain.
pub const MAX_DEPTH: u32 = 32;

/// A user's liabilities in their leaf, by status (base units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeafBalances {
    /// Reserved.
    pub reserved: u128,
    /// Held.
    pub held: u128,
    /// Pending.
    pub pending: u128,
    /// Batched.
    pub batched: u128,
    /// Claimable.
    pub claimable: u128,
    /// Maturing retail commissions: `Some` exactly in a sales-plan asset's (0x03) leaves.
    pub maturing: Option<u128>,
}

impl LeafBalances {
    /// The leaf's components in hashing order: five, or six with `maturing`.
    fn words(&self) -> Vec<u128> {
        let mut words = vec![self.reserved, self.held, self.pending, self.batched, self.claimable];
        words.extend(self.maturing);
        words
    }

    /// The leaf's value, `None` at 2^128 or more.
    pub fn value(&self) -> Option<u128> {
        self.words().into_iter().try_fold(0u128, u128::checked_add)
    }

    /// The leaf's first byte: 0x03 with `maturing`, 0x00 without.
    pub fn tag(&self) -> u8 {
        if self.maturing.is_some() { 0x03 } else { 0x00 }
    }
}

/// A proof as the API serves it (`GET /v1/users/solvency-proof`), parsed strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The chain id the leaves commit to.
    pub chain_id: u64,
    /// The Settlement contract.
    pub contract: Address,
    /// The token (zero: the native coin).
    pub token: Address,
    /// The epoch.
    pub epoch: u64,
    /// The block the liabilities were read at.
    pub as_of_block: u64,
    /// The user.
    pub user: Address,
    /// The user's liabilities.
    pub balances: LeafBalances,
    /// The user's salt.
    pub salt: B256,
    /// The leaf's index.
    pub index: u64,
    /// Levels below the root.
    pub depth: u32,
    /// Users' leaves.
    pub leaf_count: u32,
    /// Siblings bottom-up: (hash, sum).
    pub siblings: Vec<(B256, u128)>,
    /// The root the API claims (information only).
    pub root: Option<B256>,
    /// The total the API claims (information only).
    pub total: Option<u128>,
}

#[derive(Deserialize)]
struct WireBalances {
    reserved: String,
    held: String,
    pending: String,
    batched: String,
    claimable: String,
    maturing: Option<String>,
}

#[derive(Deserialize)]
struct WireNode {
    hash: String,
    sum: String,
}

#[derive(Deserialize)]
struct WireProof {
    version: String,
    chain_id: u64,
    contract: String,
    token: String,
    epoch: u64,
    as_of_block: u64,
    user: String,
    balances: WireBalances,
    salt: String,
    index: u64,
    depth: u32,
    leaf_count: u32,
    siblings: Vec<WireNode>,
    root: Option<String>,
    total: Option<String>,
}

fn amount(field: &str, s: &str) -> Result<u128, String> {
    if s.is_empty() || s.len() > 39 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{field} is not a decimal amount below 2^128: {s:.50}"));
    }
    s.parse().map_err(|_| format!("{field} is 2^128 or more: {s}"))
}

fn address(field: &str, s: &str) -> Result<Address, String> {
    let hex = s.strip_prefix("0x").filter(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex.and_then(|h| h.parse().ok()).ok_or_else(|| format!("{field} is not a 0x address: {s:.50}"))
}

fn hash(field: &str, s: &str) -> Result<B256, String> {
    let hex = s.strip_prefix("0x").filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex.and_then(|h| h.parse().ok()).ok_or_else(|| format!("{field} is not 32 bytes of 0x hex: {s:.80}"))
}

impl Proof {
    /// Parses a proof file: at most [`MAX_PROOF_BYTES`], the `solvency/v1` format, every field well-formed.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(format!("the proof is {} bytes, more than {MAX_PROOF_BYTES}", bytes.len()));
        }
        let w: WireProof = serde_json::from_slice(bytes).map_err(|e| format!("not a proof: {e}"))?;
        if w.version != VERSION {
            return Err(format!("version {:.30} is not {VERSION}", w.version));
        }
        if w.siblings.len() > MAX_DEPTH as usize {
            return Err(format!("{} siblings: a tree is at most {MAX_DEPTH} deep", w.siblings.len()));
        }
        let siblings = w
            .siblings
            .iter()
            .enumerate()
            .map(|(k, n)| {
                Ok((hash(&format!("siblings[{k}].hash"), &n.hash)?, amount(&format!("siblings[{k}].sum"), &n.sum)?))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Proof {
            chain_id: w.chain_id,
            contract: address("contract", &w.contract)?,
            token: address("token", &w.token)?,
            epoch: w.epoch,
            as_of_block: w.as_of_block,
            user: address("user", &w.user)?,
            balances: LeafBalances {
                reserved: amount("reserved", &w.balances.reserved)?,
                held: amount("held", &w.balances.held)?,
                pending: amount("pending", &w.balances.pending)?,
                batched: amount("batched", &w.balances.batched)?,
                claimable: amount("claimable", &w.balances.claimable)?,
                maturing: w.balances.maturing.as_deref().map(|m| amount("maturing", m)).transpose()?,
            },
            salt: hash("salt", &w.salt)?,
            index: w.index,
            depth: w.depth,
            leaf_count: w.leaf_count,
            siblings,
            root: w.root.as_deref().map(|r| hash("root", r)).transpose()?,
            total: w.total.as_deref().map(|t| amount("total", t)).transpose()?,
        })
    }
}

/// The salt of `user`'s leaf under key `key`.
pub fn salt(key: &[u8; 32], chain_id: u64, token: Address, epoch: u64, user: Address) -> B256 {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(VERSION.as_bytes());
    mac.update(&chain_id.to_be_bytes());
    mac.update(token.as_slice());
    mac.update(&epoch.to_be_bytes());
    mac.update(user.as_slice());
    B256::from_slice(&mac.finalize().into_bytes())
}

/// The leaf hash of the proof's user.
pub fn leaf(proof: &Proof) -> B256 {
    let mut bytes = vec![proof.balances.tag()];
    bytes.extend(proof.chain_id.to_be_bytes());
    bytes.extend(proof.contract.as_slice());
    bytes.extend(proof.token.as_slice());
    bytes.extend(proof.epoch.to_be_bytes());
    bytes.extend(proof.user.as_slice());
    for word in proof.balances.words() {
        bytes.extend(word.to_be_bytes());
    }
    bytes.extend(proof.salt.as_slice());
    keccak256(bytes)
}

/// The parent of two nodes, `None` when their sums reach 2^128.
pub fn parent(left: (B256, u128), right: (B256, u128)) -> Option<(B256, u128)> {
    let sum = left.1.checked_add(right.1)?;
    let mut bytes = Vec::with_capacity(97);
    bytes.push(0x01);
    bytes.extend(left.0.as_slice());
    bytes.extend(left.1.to_be_bytes());
    bytes.extend(right.0.as_slice());
    bytes.extend(right.1.to_be_bytes());
    Some((keccak256(bytes), sum))
}

/// The commitment of one token as the chain holds it (`latestLiabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commitment {
    /// The committed root.
    pub root: B256,
    /// The committed total.
    pub total: u128,
    /// The latest epoch (0: nothing committed).
    pub epoch: u64,
    /// Its as-of block.
    pub as_of_block: u64,
    /// The block that committed it.
    pub commit_block: u64,
    /// The custody the contract read then.
    pub custody: U256,
}

/// What an auditor knows from their own sources, never from the proof file or the operator's API: the chain their
/// node is on, the Settlement contract and (optionally) the token they were told to check, and what that contract
/// says of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// The chain id the auditor's node answers (`eth_chainId`).
    pub chain_id: u64,
    /// The Settlement contract the auditor was given (the deployment's record), where the commitment was read.
    pub contract: Address,
    /// The token the auditor was given, when they were; otherwise the proof's is checked against the contract.
    pub token: Option<Address>,
    /// Whether the contract ever allowed the token whose commitment was read (`wasEverAllowed`): only such a token's
    /// liabilities can be committed.
    pub token_ever_allowed: bool,
}

/// A day of blocks on the chain's family, the CLI's maximum age of a commitment's liabilities when none is given:
/// TRON makes a block every 3 s (28,800 a day), BSC every 0.75 s (115,200); another EVM chain gets BSC's figure, more
/// lenient for slower chains (give `--max-age-blocks` there).
pub fn default_max_age_blocks(chain_id: u64) -> u64 {
    match abi::chain::Family::of(chain_id) {
        abi::chain::Family::Tron => 28_800,
        abi::chain::Family::Evm => 115_200,
    }
}

/// One check of a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `chain`, `contract`, `token` and `allowed` (against the auditor's [`Sources`], with [`verify_with`]); `shape`,
    /// `range`, `committed`, `epoch`, `root`, `total`, `fresh`; and the information-only `served` and `solvent`.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What it found, in words.
    pub detail: String,
}

/// What verifying a proof against the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The leaf's value, when its balances add up below 2^128.
    pub leaf_value: Option<u128>,
    /// The root and total the proof folds to, when it folds.
    pub computed: Option<(B256, u128)>,
}

/// Checks that only inform: a proof can be verified while they fail.
const INFORMATION: [&str; 2] = ["served", "solvent"];

impl Verdict {
    /// The user's balance is a leaf of the chain's current commitment: every check but the information-only ones
    /// passed.
    pub fn verified(&self) -> bool {
        self.checks.iter().all(|c| c.passed || INFORMATION.contains(&c.name))
    }

    /// Whether the chain's custody covered the committed total.
    pub fn solvent(&self) -> bool {
        self.checks.iter().any(|c| c.name == "solvent" && c.passed)
    }

    fn check(&mut self, name: &'static str, passed: bool, detail: impl Into<String>) {
        self.checks.push(Check { name, passed, detail: detail.into() });
    }

    /// The failed checks, as one line.
    pub fn failures(&self) -> String {
        let failed: Vec<String> =
            self.checks.iter().filter(|c| !c.passed).map(|c| format!("{}: {}", c.name, c.detail)).collect();
        failed.join("; ")
    }
}

/// Verifies `proof` against `chain` (the commitment read from the chain), at the chain's block `head`; a commitment
/// whose liabilities (its `asOfBlock`) are more than `max_age_blocks` behind the head is stale. The proof's own
/// chain, contract and token are taken as they are: callers that did not build the proof themselves use
/// [`verify_with`].
pub fn verify(proof: &Proof, chain: &Commitment, head: u64, max_age_blocks: Option<u64>) -> Verdict {
    let mut v = Verdict { checks: Vec::new(), leaf_value: proof.balances.value(), computed: None };
    fold_and_compare(&mut v, proof, chain, head, max_age_blocks);
    v
}

/// Verifies `proof` as [`verify`] does, after checking what it names against the auditor's own `sources`: the node's
/// chain is the proof's, the proof names the contract the commitment was read from (and the token, when one was
/// given), and that contract ever allowed the token. A proof folded under another contract or chain — a tree its
/// maker committed wherever they liked — is refused here, whatever it folds to. `max_age_blocks` is required: an
/// auditor always has a maximum ([`default_max_age_blocks`]).
pub fn verify_with(proof: &Proof, sources: &Sources, chain: &Commitment, head: u64, max_age_blocks: u64) -> Verdict {
    let mut v = Verdict { checks: Vec::new(), leaf_value: proof.balances.value(), computed: None };
    v.check(
        "chain",
        proof.chain_id == sources.chain_id,
        if proof.chain_id == sources.chain_id {
            format!("the node is on chain {}, the proof's", sources.chain_id)
        } else {
            format!("the proof is for chain {}, but the node answers chain {}", proof.chain_id, sources.chain_id)
        },
    );
    v.check(
        "contract",
        proof.contract == sources.contract,
        if proof.contract == sources.contract {
            format!("the proof names {}, the contract given", sources.contract)
        } else {
            format!(
                "the proof names contract {}, not the one given ({}): its leaf and root are another contract's",
                proof.contract, sources.contract
            )
        },
    );
    let token = sources.token.unwrap_or(proof.token);
    v.check(
        "token",
        proof.token == token,
        match sources.token {
            Some(given) if given != proof.token => {
                format!("the proof is for token {}, not the one given ({given})", proof.token)
            }
            Some(given) => format!("the proof is for {given}, the token given"),
            None => {
                format!("the proof is for token {} (no token given: the contract's allowance decides)", proof.token)
            }
        },
    );
    v.check(
        "allowed",
        sources.token_ever_allowed,
        if sources.token_ever_allowed {
            format!("the contract has allowed token {token}")
        } else {
            format!("the contract never allowed token {token}: no commitment of it can be the contract's liabilities")
        },
    );
    fold_and_compare(&mut v, proof, chain, head, Some(max_age_blocks));
    v
}

/// After an upgrade (contracts/UPGRADES.md §7) custody is what every contract of the chain holds together: judges
/// `solvent` again on `chain`'s custody plus that of each contract an upgrade replaced (`previous`, read by the auditor
/// at the contracts of their own records), when each committed the same round — the same as-of block and total.
/// A contract still on another round fails the check (the round is not committed everywhere yet: check again later),
/// since custody of different moments would not add up to anything.
pub fn judge_round(v: &mut Verdict, chain: &Commitment, previous: &[(Address, Commitment)]) {
    if previous.is_empty() {
        return;
    }
    v.checks.retain(|c| c.name != "solvent");
    let behind: Vec<String> = previous
        .iter()
        .filter(|(_, c)| c.as_of_block != chain.as_of_block || c.total != chain.total)
        .map(|(address, c)| {
            format!("{address} last committed block {} (total {}, epoch {})", c.as_of_block, c.total, c.epoch)
        })
        .collect();
    if !behind.is_empty() {
        v.check(
            "solvent",
            false,
            format!(
                "not every contract has committed the round of block {} yet: {}; check again after its next commitment",
                chain.as_of_block,
                behind.join(", ")
            ),
        );
        return;
    }
    let custody = previous.iter().fold(chain.custody, |sum, (_, c)| sum.saturating_add(c.custody));
    v.check(
        "solvent",
        custody >= U256::from(chain.total),
        format!(
            "custody {custody} held by {} contracts together (this one {}) against a total of {}",
            previous.len() + 1,
            chain.custody,
            chain.total
        ),
    );
}

fn fold_and_compare(v: &mut Verdict, proof: &Proof, chain: &Commitment, head: u64, max_age_blocks: Option<u64>) {
    let least_depth = proof.leaf_count.max(1).next_power_of_two().trailing_zeros();
    let shaped = proof.depth <= MAX_DEPTH
        && proof.siblings.len() == proof.depth as usize
        && proof.depth == least_depth
        && proof.index < u64::from(proof.leaf_count);
    v.check(
        "shape",
        shaped,
        format!(
            "index {} of {} leaves, depth {} with {} siblings (the least depth is {least_depth})",
            proof.index,
            proof.leaf_count,
            proof.depth,
            proof.siblings.len()
        ),
    );
    let mut node = v.leaf_value.map(|value| (leaf(proof), value));
    let mut overflow = v.leaf_value.is_none().then(|| "the leaf's balances add up to 2^128 or more".to_owned());
    for (k, sibling) in proof.siblings.iter().enumerate() {
        let Some(current) = node else { break };
        let left = (proof.index >> k) & 1 == 0;
        node = if left { parent(current, *sibling) } else { parent(*sibling, current) };
        if node.is_none() {
            overflow = Some(format!("the sums reach 2^128 at level {}", k + 1));
        }
    }
    v.check("range", overflow.is_none(), overflow.unwrap_or_else(|| "every value and sum is below 2^128".into()));
    v.computed = node;
    v.check("committed", chain.epoch > 0, format!("the chain's latest epoch is {}", chain.epoch));
    v.check(
        "epoch",
        proof.epoch == chain.epoch && proof.as_of_block == chain.as_of_block,
        format!(
            "the proof is of epoch {} (block {}); the chain's latest is epoch {} (block {})",
            proof.epoch, proof.as_of_block, chain.epoch, chain.as_of_block
        ),
    );
    let (root, total) = node.map_or((None, None), |(r, t)| (Some(r), Some(t)));
    v.check(
        "root",
        root == Some(chain.root),
        format!(
            "the proof folds to {}; the chain holds {}",
            root.map_or("nothing".into(), |r| r.to_string()),
            chain.root
        ),
    );
    v.check(
        "total",
        total == Some(chain.total),
        format!(
            "the proof sums to {}; the chain holds {}",
            total.map_or("nothing".into(), |t| t.to_string()),
            chain.total
        ),
    );
    let age = head.saturating_sub(chain.as_of_block);
    let when = format!(
        "the liabilities are as of block {}, {age} blocks behind the head {head} (committed at block {})",
        chain.as_of_block, chain.commit_block
    );
    match max_age_blocks {
        Some(max) => v.check("fresh", age <= max, format!("{when}; at most {max}")),
        None => v.check("fresh", true, format!("{when}; no limit given")),
    }
    let served = proof.root.is_none_or(|r| r == chain.root) && proof.total.is_none_or(|t| t == chain.total);
    v.check("served", served, "the root and total the proof file names are the chain's");
    v.check(
        "solvent",
        chain.custody >= U256::from(chain.total),
        format!("custody {} against a total of {}", chain.custody, chain.total),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden vectors every implementation of the tree reproduces.
    fn vectors() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../abi/vectors/solvency-tree.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn proofs_of(case: &serde_json::Value) -> Vec<(Proof, Commitment)> {
        let s = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
        let root = hash("root", &s(&case["root"])).unwrap();
        let total = amount("total", &s(&case["total"])).unwrap();
        let commitment = Commitment {
            root,
            total,
            epoch: case["epoch"].as_u64().unwrap(),
            as_of_block: 7,
            commit_block: 10,
            custody: U256::from(total),
        };
        case["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let user = case["users"].as_array().unwrap().iter().find(|u| u["user"] == p["user"]).unwrap();
                let mut balances = serde_json::json!({ "reserved": user["reserved"], "held": user["held"],
                    "pending": user["pending"], "batched": user["batched"], "claimable": user["claimable"] });
                if let Some(maturing) = user.get("maturing") {
                    balances["maturing"] = maturing.clone();
                }
                let json = serde_json::json!({
                    "version": VERSION, "chain_id": case["chain_id"], "contract": case["contract"],
                    "token": case["token"], "epoch": case["epoch"], "as_of_block": 7, "user": user["user"],
                    "balances": balances,
                    "salt": user["salt"], "index": p["index"], "depth": case["depth"],
                    "leaf_count": case["leaf_count"], "siblings": p["siblings"],
                });
                (Proof::parse(json.to_string().as_bytes()).unwrap(), commitment)
            })
            .collect()
    }

    #[test]
    fn every_golden_proof_verifies_and_the_salts_are_the_vectors() {
        for case in vectors()["cases"].as_array().unwrap() {
            let key: [u8; 32] = hash("key", case["salt_key"].as_str().unwrap()).unwrap().0;
            for (proof, commitment) in proofs_of(case) {
                assert_eq!(
                    salt(&key, proof.chain_id, proof.token, proof.epoch, proof.user),
                    proof.salt,
                    "{}: salt",
                    case["name"]
                );
                let verdict = verify(&proof, &commitment, 12, Some(5));
                assert!(verdict.verified() && verdict.solvent(), "{}: {}", case["name"], verdict.failures());
            }
        }
    }

    #[test]
    fn a_sales_leaf_verifies_only_with_its_sixth_component() {
        let cases = vectors()["cases"].as_array().unwrap().clone();
        let sales: Vec<_> = cases.iter().filter(|c| c["users"][0].get("maturing").is_some()).collect();
        assert!(sales.len() >= 2, "the vectors have sales-plan (0x03) cases");
        let failed = |p: &Proof, c: &Commitment| -> Vec<&'static str> {
            verify(p, c, 12, Some(5)).checks.into_iter().filter(|c| !c.passed).map(|c| c.name).collect()
        };
        for case in sales {
            for (proof, chain) in proofs_of(case) {
                let maturing = proof.balances.maturing.expect("a sales leaf");
                assert!(failed(&proof, &chain).is_empty(), "{}", case["name"]);
                // Read as a five-component leaf (a verifier that ignores `maturing`): refused.
                let five = Proof { balances: LeafBalances { maturing: None, ..proof.balances }, ..proof.clone() };
                assert!(failed(&five, &chain).contains(&"root"), "{}", case["name"]);
                // Maturing lowered, or moved into pending (the same value, another leaf): refused.
                if maturing > 0 {
                    let mut lowered = proof.clone();
                    lowered.balances.maturing = Some(maturing - 1);
                    assert!(failed(&lowered, &chain).contains(&"root"));
                    let mut moved = proof.clone();
                    moved.balances.maturing = Some(0);
                    moved.balances.pending += maturing;
                    assert!(failed(&moved, &chain).contains(&"root"));
                }
            }
        }
        // A five-component proof given a `maturing` of 0 is another leaf: refused.
        let plain = cases.iter().find(|c| c["users"][0].get("maturing").is_none()).unwrap();
        let (proof, chain) = proofs_of(plain).remove(0);
        let six = Proof { balances: LeafBalances { maturing: Some(0), ..proof.balances }, ..proof };
        assert!(failed(&six, &chain).contains(&"root"));
    }

    #[test]
    fn the_tamper_suite_is_refused_by_the_check_that_names_it() {
        let case = &vectors()["cases"].as_array().unwrap().iter().find(|c| c["leaf_count"] == 9).unwrap().clone();
        let (proof, chain) = proofs_of(case).remove(3);
        let failed = |p: &Proof, c: &Commitment, head: u64| -> Vec<&'static str> {
            verify(p, c, head, Some(5)).checks.into_iter().filter(|c| !c.passed).map(|c| c.name).collect()
        };
        assert!(failed(&proof, &chain, 12).is_empty());
        // A lowered balance.
        let mut lowered = proof.clone();
        lowered.balances.pending = lowered.balances.pending.saturating_sub(1);
        lowered.balances.claimable = lowered.balances.claimable.saturating_sub(1);
        assert!(failed(&lowered, &chain, 12).contains(&"root"));
        // The max(vL, vR) sibling: a parent's sum reported as if the sibling were the max, hash kept.
        let mut maxed = proof.clone();
        maxed.siblings[1].1 = maxed.siblings[1].1.saturating_sub(1);
        assert!(failed(&maxed, &chain, 12).contains(&"root"));
        // A sum of 2^128 or more.
        let mut huge = proof.clone();
        huge.siblings[0].1 = u128::MAX;
        assert!(failed(&huge, &chain, 12).contains(&"range"));
        // A swapped order.
        let mut swapped = proof.clone();
        swapped.index ^= 1;
        assert!(failed(&swapped, &chain, 12).contains(&"root"));
        // A user left out: their proof against a root without them.
        let other = Commitment { root: B256::repeat_byte(1), ..chain };
        assert_eq!(failed(&proof, &other, 12), ["root"]);
        // A stale root: a later epoch on chain, or liabilities older than the limit (as of block 7: 5 blocks behind
        // a head of 12 is the most).
        let later = Commitment { epoch: chain.epoch + 1, ..chain };
        assert!(failed(&proof, &later, 12).contains(&"epoch"));
        assert_eq!(failed(&proof, &chain, 13), ["fresh"]);
        // Age is the liabilities', not the commit's: old liabilities committed in the head's own block are stale.
        let recommitted = Commitment { commit_block: 16, ..chain };
        assert_eq!(failed(&proof, &recommitted, 16), ["fresh"]);
        // A root served only by the API: the proof names a root the chain does not hold.
        let mut served = proof.clone();
        served.root = Some(B256::repeat_byte(9));
        let verdict = verify(&served, &chain, 12, Some(5));
        assert!(verdict.verified(), "the file's own root is information only");
        assert!(verdict.checks.iter().any(|c| c.name == "served" && !c.passed));
        // Insolvency shows, without making the proof false.
        let short = Commitment { custody: U256::from(chain.total) - U256::from(1), ..chain };
        let verdict = verify(&proof, &short, 12, Some(5));
        assert!(verdict.verified() && !verdict.solvent());
    }

    #[test]
    fn what_the_proof_names_is_checked_against_the_auditors_sources() {
        let case = &vectors()["cases"].as_array().unwrap().iter().find(|c| c["leaf_count"] == 9).unwrap().clone();
        let (proof, chain) = proofs_of(case).remove(3);
        let own = Sources { chain_id: proof.chain_id, contract: proof.contract, token: None, token_ever_allowed: true };
        let failed = |s: &Sources, head: u64, max: u64| -> Vec<&'static str> {
            verify_with(&proof, s, &chain, head, max).checks.into_iter().filter(|c| !c.passed).map(|c| c.name).collect()
        };
        assert!(failed(&own, 12, 5).is_empty());
        assert!(failed(&Sources { token: Some(proof.token), ..own }, 12, 5).is_empty());
        // A node of another chain, another contract, another token, a token the contract never allowed: each refused
        // by its own check, however well the proof folds to the root read.
        assert_eq!(failed(&Sources { chain_id: proof.chain_id + 1, ..own }, 12, 5), ["chain"]);
        let other = Address::repeat_byte(0x77);
        assert_eq!(failed(&Sources { contract: other, ..own }, 12, 5), ["contract"]);
        assert_eq!(failed(&Sources { token: Some(other), ..own }, 12, 5), ["token"]);
        assert_eq!(failed(&Sources { token_ever_allowed: false, ..own }, 12, 5), ["allowed"]);
        // The maximum age always applies.
        assert_eq!(failed(&own, 13, 5), ["fresh"]);
        let verdict = verify_with(&proof, &Sources { contract: other, ..own }, &chain, 12, 5);
        assert!(!verdict.verified());
        assert!(verdict.failures().starts_with(&format!("contract: the proof names contract {}", proof.contract)));
    }

    #[test]
    fn the_default_maximum_age_is_a_day_of_the_chains_blocks() {
        assert_eq!(default_max_age_blocks(56), 115_200);
        assert_eq!(default_max_age_blocks(abi::chain::TRON_MAINNET), 28_800);
        assert_eq!(default_max_age_blocks(abi::chain::TRON_NILE), 28_800);
    }

    #[test]
    fn malformed_proofs_are_refused_before_anything_is_folded() {
        let case = vectors()["cases"][1].clone();
        let (proof, _) = proofs_of(&case).remove(0);
        let good = serde_json::json!({
            "version": VERSION, "chain_id": proof.chain_id, "contract": proof.contract, "token": proof.token,
            "epoch": proof.epoch, "as_of_block": 7, "user": proof.user,
            "balances": { "reserved": "0", "held": "0", "pending": "1", "batched": "0", "claimable": "0" },
            "salt": proof.salt, "index": 0, "depth": 2, "leaf_count": 3,
            "siblings": [{ "hash": B256::ZERO, "sum": "1" }, { "hash": B256::ZERO, "sum": "1" }],
        });
        assert!(Proof::parse(good.to_string().as_bytes()).is_ok());
        for (field, value) in [
            ("version", serde_json::json!("solvency/v0")),
            ("contract", serde_json::json!("0x12")),
            ("salt", serde_json::json!("0xzz")),
            ("epoch", serde_json::json!(-1)),
            ("siblings", serde_json::json!([{ "hash": B256::ZERO, "sum": "-1" }])),
            ("siblings", serde_json::json!([{ "hash": B256::ZERO, "sum": "340282366920938463463374607431768211456" }])),
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            assert!(Proof::parse(bad.to_string().as_bytes()).is_err(), "{field}");
        }
        assert!(Proof::parse(&vec![b' '; MAX_PROOF_BYTES + 1]).is_err());
    }
}

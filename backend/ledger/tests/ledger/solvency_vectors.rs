//! The golden vectors of the solvency tree (`abi/vectors/solvency-tree.json`, written by the web front's
//! JavaScript generator and checked by the Solidity tests too): the ledger's builder must produce every salt, leaf,
//! level, root and proof of every case.

use std::str::FromStr;

use alloy::primitives::{Address, B256};
use ledger::solvency::tree::{Balances, Node, SolvencyTree, TreeContext, fold, salt};
use serde_json::Value;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("a string, not {v}"))
}
fn amount(v: &Value) -> u128 {
    text(v).parse().unwrap()
}
fn b256(v: &Value) -> B256 {
    B256::from_str(text(v)).unwrap()
}
fn address(v: &Value) -> Address {
    Address::from_str(text(v)).unwrap()
}
fn node(v: &Value) -> Node {
    Node { hash: b256(&v["hash"]), sum: amount(&v["sum"]) }
}

#[test]
fn the_ledger_builds_every_golden_vector_exactly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../abi/vectors/solvency-tree.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 6, "every case of the file");
    assert!(
        cases.iter().filter(|c| c["users"][0].get("maturing").is_some()).count() >= 2,
        "sales-plan (0x03) cases among them"
    );
    for case in cases {
        let name = text(&case["name"]);
        let ctx = TreeContext {
            chain_id: case["chain_id"].as_u64().unwrap(),
            contract: address(&case["contract"]),
            token: address(&case["token"]),
            epoch: case["epoch"].as_u64().unwrap(),
        };
        let key: [u8; 32] = b256(&case["salt_key"]).0;
        let users: Vec<(Address, Balances)> = case["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let b = Balances {
                    reserved: amount(&u["reserved"]),
                    held: amount(&u["held"]),
                    pending: amount(&u["pending"]),
                    batched: amount(&u["batched"]),
                    claimable: amount(&u["claimable"]),
                    // a sales-plan case's users carry a sixth component (0x03 leaves)
                    maturing: u.get("maturing").map(amount),
                };
                let user = address(&u["user"]);
                assert_eq!(salt(&key, &ctx, user), b256(&u["salt"]), "{name}: salt of {user}");
                assert_eq!(b.value(), Some(amount(&u["value"])), "{name}: value of {user}");
                (user, b)
            })
            .collect();
        let tree = SolvencyTree::build(ctx, &key, &users).unwrap();
        for u in case["users"].as_array().unwrap() {
            let leaf = tree.leaves.iter().find(|l| l.user == address(&u["user"])).unwrap();
            assert_eq!(leaf.node.hash, b256(&u["leaf"]), "{name}: leaf of {}", leaf.user);
        }
        let levels: Vec<Vec<Node>> = case["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_array().unwrap().iter().map(node).collect())
            .collect();
        assert_eq!(tree.levels, levels, "{name}: every level");
        assert_eq!(tree.root(), Node { hash: b256(&case["root"]), sum: amount(&case["total"]) }, "{name}: root");
        assert_eq!(tree.depth() as u64, case["depth"].as_u64().unwrap(), "{name}: depth");
        assert_eq!(tree.leaf_count() as u64, case["leaf_count"].as_u64().unwrap(), "{name}: leaf count");
        for p in case["proofs"].as_array().unwrap() {
            let index = p["index"].as_u64().unwrap() as usize;
            assert_eq!(tree.leaves[index].user, address(&p["user"]), "{name}: the leaf at {index}");
            let siblings: Vec<Node> = p["siblings"].as_array().unwrap().iter().map(node).collect();
            assert_eq!(tree.proof(index).unwrap(), siblings, "{name}: proof of {index}");
            assert_eq!(fold(tree.leaves[index].node, index as u64, &siblings), Some(tree.root()), "{name}: folds");
        }
    }
}

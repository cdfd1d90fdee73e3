//! The admin's actions as a Safe Transaction Builder batch file: the JSON the Safe{Wallet} Transaction Builder app
//! imports ("drag and drop a JSON file"), one transaction per action, each with its method and inputs (so the owners
//! read what they sign) and its calldata. The builder proposes them as one Safe transaction (through MultiSend when
//! there are several); the owners sign it in the Safe's interface and one of them executes it.
//!
//! The file carries the builder's checksum (`meta.checksum`: keccak-256 of the builder's own canonical
//! serialisation of the batch with `meta.name` nulled), so the app imports it without its "modified since it was
//! saved" warning; a file edited by hand shows that warning.

use alloy::primitives::{Address, B256, keccak256};
use serde_json::{Value, json};

use crate::admin::Action;

/// The Transaction Builder release whose file format this is.
pub const TX_BUILDER_VERSION: &str = "1.18.0";

/// A batch of `actions` for the Safe `safe` on chain `chain_id`, each a call of `settlement`; `created_at_ms` is the
/// file's creation time (Unix milliseconds).
pub fn batch(
    chain_id: u64,
    safe: Address,
    settlement: Address,
    actions: &[Action],
    name: &str,
    description: &str,
    created_at_ms: u64,
) -> Value {
    let transactions: Vec<Value> = actions
        .iter()
        .map(|action| {
            let (method, inputs) = action.method();
            let values: serde_json::Map<String, Value> =
                inputs.iter().map(|i| (i.name.to_owned(), json!(i.value))).collect();
            json!({
                "to": settlement.to_checksum(None),
                "value": "0",
                "data": alloy::hex::encode_prefixed(action.calldata()),
                "contractMethod": {
                    "inputs": inputs.iter().map(|i| json!({ "internalType": i.kind, "name": i.name, "type": i.kind })).collect::<Vec<_>>(),
                    "name": method,
                    "payable": false,
                },
                "contractInputsValues": values,
            })
        })
        .collect();
    let mut file = json!({
        "version": "1.0",
        "chainId": chain_id.to_string(),
        "createdAt": created_at_ms,
        "meta": {
            "name": name,
            "description": description,
            "txBuilderVersion": TX_BUILDER_VERSION,
            "createdFromSafeAddress": safe.to_checksum(None),
            "createdFromOwnerAddress": "",
        },
        "transactions": transactions,
    });
    let sum = checksum(&file);
    file["meta"]["checksum"] = json!(sum.to_string());
    file
}

/// The Transaction Builder's checksum of a batch file: keccak-256 of its canonical serialisation (`serializeJSONObject`
/// in the app's `lib/checksum.ts`) with `meta.name` set to null and without `meta.checksum`.
pub fn checksum(file: &Value) -> B256 {
    let mut copy = file.clone();
    if let Some(meta) = copy.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("checksum");
        meta.insert("name".into(), Value::Null);
    }
    keccak256(serialize(&copy))
}

/// Whether `file`'s `meta.checksum` is the one [`checksum`] computes (the app's `validateChecksum`).
pub fn checksum_valid(file: &Value) -> bool {
    file["meta"]["checksum"].as_str().and_then(|s| s.parse::<B256>().ok()) == Some(checksum(file))
}

/// The app's `serializeJSONObject`: arrays element by element, objects as the JSON list of their sorted keys followed
/// by each value and a comma, anything else as `JSON.stringify` writes it.
fn serialize(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(serialize).collect::<Vec<_>>().join(",")),
        Value::Object(map) => {
            // JavaScript sorts keys by UTF-16 code units; the keys here are ASCII, where that is byte order.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = format!("{{{}", serde_json::to_string(&keys).expect("strings serialise"));
            for key in keys {
                out.push_str(&serialize(&map[key]));
                out.push(',');
            }
            out.push('}');
            out
        }
        other => serde_json::to_string(other).expect("a JSON value serialises"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serialisation's shape, as the app's code writes it.
    #[test]
    fn the_serialisation_is_the_apps() {
        let value = json!({ "b": [1, "x", null], "a": { "d": true, "c": "é\"" } });
        assert_eq!(serialize(&value), r#"{["a","b"]{["c","d"]"é\"",true,},[1,"x",null],}"#);
    }

    /// A batch the Transaction Builder (1.18.2) exported, with the checksum it computed.
    #[test]
    fn the_checksum_of_a_file_the_app_saved() {
        let file = json!({
            "version": "1.0",
            "chainId": "1",
            "createdAt": 1761326849944u64,
            "meta": {
                "name": "Transactions Batch",
                "description": "",
                "txBuilderVersion": "1.18.2",
                "createdFromSafeAddress": "0xA77DE01e157f9f57C7c4A326eeE9C4874D0598b6",
                "createdFromOwnerAddress": "",
                "checksum": "0x8b5032f716845c8b08bab3d63dbd9ba92e056f3557793cd041e59b84e16aa989"
            },
            "transactions": [{
                "to": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                "value": "0",
                "data": null,
                "contractMethod": {
                    "inputs": [
                        { "internalType": "address", "name": "spender", "type": "address" },
                        { "internalType": "uint256", "name": "value", "type": "uint256" }
                    ],
                    "name": "approve",
                    "payable": false
                },
                "contractInputsValues": {
                    "spender": "0x474e5Ded6b5D078163BFB8F6dBa355C3aA5478C8",
                    "value": "100000000000"
                }
            }]
        });
        assert!(checksum_valid(&file), "{}", checksum(&file));
    }

    #[test]
    fn a_batch_carries_a_checksum_that_an_edit_breaks() {
        let settlement = Address::repeat_byte(0x11);
        let mut file = batch(
            97,
            Address::repeat_byte(0x22),
            settlement,
            &[Action::ScheduleSigner(Address::repeat_byte(0x33)), Action::ScheduleUnpause],
            "n",
            "d",
            1,
        );
        assert!(checksum_valid(&file));
        // The name is outside the checksum (the app lets a user rename a saved batch).
        file["meta"]["name"] = json!("renamed");
        assert!(checksum_valid(&file));
        file["transactions"][0]["contractInputsValues"]["newSigner"] = json!(Address::repeat_byte(0x44).to_string());
        assert!(!checksum_valid(&file));
        assert_eq!(file["transactions"][1]["contractMethod"]["inputs"], json!([]));
    }
}

//! Is a deployed contract this build's? Its runtime code must equal the artifact's `deployedBytecode` byte for
//! byte, except where the compiler left room for immutables (`immutableReferences`: values the constructor sets,
//! here the EIP-712 domain's cached chain id, address and separator).

use std::ops::Range;

use serde::Deserialize;

#[derive(Deserialize)]
struct Artifact {
    #[serde(rename = "deployedBytecode")]
    deployed: Deployed,
}

#[derive(Deserialize)]
struct Deployed {
    #[serde(rename = "immutableReferences", default)]
    immutables: std::collections::BTreeMap<String, Vec<Offset>>,
}

#[derive(Deserialize)]
struct Offset {
    start: usize,
    length: usize,
}

/// The byte ranges of Settlement's runtime code that hold immutables, in order.
pub fn settlement_immutable_ranges() -> Vec<Range<usize>> {
    let artifact: Artifact = serde_json::from_str(include_str!("../artifacts/Settlement.json"))
        .expect("the Settlement artifact is JSON with deployedBytecode");
    let mut ranges: Vec<Range<usize>> =
        artifact.deployed.immutables.values().flatten().map(|o| o.start..o.start + o.length).collect();
    ranges.sort_by_key(|r| r.start);
    ranges
}

/// Why deployed code is not this build's Settlement.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeMismatch {
    /// Nothing is deployed there.
    #[error("no contract is deployed there")]
    NoCode,
    /// Another length: another contract, or another compiler or settings.
    #[error("its runtime code is {actual} bytes, this build's Settlement is {expected}")]
    Length {
        /// This build's length.
        expected: usize,
        /// The deployed code's.
        actual: usize,
    },
    /// The same length, another byte outside the immutables.
    #[error("its runtime code differs from this build's Settlement at byte {0}")]
    Byte(usize),
}

/// Whether `code` (as `eth_getCode` returns it) is this build's Settlement, immutables aside.
pub fn check_settlement_code(code: &[u8]) -> Result<(), CodeMismatch> {
    compare(&crate::Settlement::DEPLOYED_BYTECODE, &settlement_immutable_ranges(), code)
}

fn compare(expected: &[u8], immutables: &[Range<usize>], code: &[u8]) -> Result<(), CodeMismatch> {
    if code.is_empty() {
        return Err(CodeMismatch::NoCode);
    }
    if code.len() != expected.len() {
        return Err(CodeMismatch::Length { expected: expected.len(), actual: code.len() });
    }
    let held = |i: usize| immutables.iter().any(|r| r.contains(&i));
    match expected.iter().zip(code).enumerate().find(|(i, (a, b))| a != b && !held(*i)) {
        Some((i, _)) => Err(CodeMismatch::Byte(i)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_names_where_the_immutables_are() {
        let ranges = settlement_immutable_ranges();
        assert!(!ranges.is_empty(), "the EIP-712 domain caches immutables");
        assert!(ranges.iter().all(|r| r.len() == 32 && r.end <= crate::Settlement::DEPLOYED_BYTECODE.len()));
    }

    #[test]
    fn only_the_immutables_may_differ() {
        let build = crate::Settlement::DEPLOYED_BYTECODE.to_vec();
        let ranges = settlement_immutable_ranges();
        let mut deployed = build.clone();
        for r in &ranges {
            deployed[r.clone()].fill(0xab);
        }
        assert_eq!(check_settlement_code(&deployed), Ok(()));
        let outside = (0..build.len()).find(|i| !ranges.iter().any(|r| r.contains(i))).unwrap();
        deployed[outside] ^= 1;
        assert_eq!(check_settlement_code(&deployed), Err(CodeMismatch::Byte(outside)));
        assert_eq!(
            check_settlement_code(&build[1..]),
            Err(CodeMismatch::Length { expected: build.len(), actual: build.len() - 1 })
        );
        assert_eq!(check_settlement_code(&[]), Err(CodeMismatch::NoCode));
        assert!(check_settlement_code(&crate::TestUSDT::DEPLOYED_BYTECODE).is_err());
    }
}

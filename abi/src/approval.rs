//! Staff approvals (issue 45): what a staff member's own wallet signs to propose or approve an outflow — a payout
//! batch, a treasury transfer or a refund — and what the signer service checks before it signs the outflow itself.
//!
//! An approval is EIP-712 typed data (TIP-712 on TRON: the chain id masked to 32 bits, as the Settlement's own
//! domain) under a domain of its own (`ReferralStaffApproval`, version 1, the chain, the Settlement contract), so
//! that no approval can ever pass for a Settlement payload or the reverse. It names the Settlement payload by its
//! EIP-712 digest — every entry, amount, nonce and deadline — and repeats the token, total, nonce and deadline, which
//! a wallet shows the person signing.
//!
//! A forfeit (PLAN.md §5: a member's held rewards move to the company) is approved the same way (issue 65, item 4):
//! its `payload` is the [`Forfeit`]'s digest under the same domain, `total` its amount and `nonce` its id. The signer
//! counts an approved forfeit once, toward the liability root that first shows it (backend/SOLVENCY.md §1).

use alloy::{
    primitives::{Address, B256, U256},
    sol,
    sol_types::{Eip712Domain, SolStruct, eip712_domain},
};

use crate::signing_chain_id;

/// The approvals' domain name: never the Settlement's.
pub const APPROVAL_DOMAIN_NAME: &str = "ReferralStaffApproval";
/// The approvals' domain version.
pub const APPROVAL_DOMAIN_VERSION: &str = "1";

sol! {
    /// What a staff wallet signs: `action` is `propose` or `approve`, `kind` one of `payout_batch`,
    /// `treasury_transfer`, `refund`; `payload` the Settlement EIP-712 digest of the outflow as it will be signed.
    #[derive(Debug, PartialEq, Eq)]
    struct StaffApproval {
        string action;
        string kind;
        bytes32 payload;
        address token;
        uint256 total;
        uint256 nonce;
        uint256 deadline;
    }
}

/// The kind of an approved forfeit.
pub const FORFEIT: &str = "forfeit";

sol! {
    /// A forfeit staff approve: every held reward's rest of `member` in `token` (zero: the native coin), `amount` in
    /// all, moves to the company; `id` is the backend's and counts once; `deadline` (the chain's clock) is the last
    /// moment the backend may apply it.
    #[derive(Debug, PartialEq, Eq)]
    struct Forfeit {
        address member;
        address token;
        uint256 amount;
        uint256 id;
        uint256 deadline;
    }
}

impl Forfeit {
    /// The forfeit of `amount` of `member`'s held rewards in `token`, the backend's `id`, applicable until `deadline`.
    pub fn new(member: Address, token: Address, amount: U256, id: u64, deadline: u64) -> Self {
        Self { member, token, amount, id: U256::from(id), deadline: U256::from(deadline) }
    }

    /// Its digest under [`approval_domain`]: the `payload` of every staff approval of it.
    pub fn digest(&self, chain_id: u64, contract: Address) -> B256 {
        self.eip712_signing_hash(&approval_domain(chain_id, contract))
    }

    /// The approval of `action` (`propose` or `approve`) of this forfeit.
    pub fn approval(&self, action: &str, chain_id: u64, contract: Address) -> StaffApproval {
        let deadline = u64::try_from(self.deadline).unwrap_or(u64::MAX);
        StaffApproval::new(action, FORFEIT, self.digest(chain_id, contract), self.token, self.amount, self.id, deadline)
    }
}

/// The domain staff approvals of outflows of `contract` on `chain_id` are signed under.
pub fn approval_domain(chain_id: u64, contract: Address) -> Eip712Domain {
    eip712_domain! {
        name: APPROVAL_DOMAIN_NAME,
        version: APPROVAL_DOMAIN_VERSION,
        chain_id: signing_chain_id(chain_id),
        verifying_contract: contract,
    }
}

impl StaffApproval {
    /// The approval of `action` (`propose` or `approve`) of the outflow of `kind` whose Settlement digest is
    /// `payload`.
    pub fn new(
        action: &str,
        kind: &str,
        payload: B256,
        token: Address,
        total: U256,
        nonce: U256,
        deadline: u64,
    ) -> Self {
        Self {
            action: action.to_owned(),
            kind: kind.to_owned(),
            payload,
            token,
            total,
            nonce,
            deadline: U256::from(deadline),
        }
    }

    /// The digest a staff wallet signs, under [`approval_domain`].
    pub fn digest(&self, chain_id: u64, contract: Address) -> B256 {
        self.eip712_signing_hash(&approval_domain(chain_id, contract))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SettlementDomain;

    #[test]
    fn the_type_string_and_domain_are_the_approval_s_own() {
        assert_eq!(
            StaffApproval::eip712_encode_type(),
            "StaffApproval(string action,string kind,bytes32 payload,address token,uint256 total,uint256 nonce,uint256 deadline)"
        );
        let contract = Address::repeat_byte(7);
        assert_ne!(
            approval_domain(56, contract).separator(),
            SettlementDomain::new(56, contract).separator(),
            "an approval is never a Settlement payload"
        );
        // TRON: the chain id is masked as the Settlement's domain masks it.
        assert_eq!(approval_domain(728_126_428, contract).chain_id, Some(U256::from(728_126_428u64 & 0xffff_ffff)));
        let a = StaffApproval::new(
            "approve",
            "payout_batch",
            B256::repeat_byte(1),
            Address::ZERO,
            U256::from(5),
            U256::from(9),
            100,
        );
        let b = StaffApproval { action: "propose".into(), ..a.clone() };
        assert_ne!(a.digest(56, contract), b.digest(56, contract));
        assert_ne!(a.digest(56, contract), a.digest(97, contract));
    }

    #[test]
    fn a_forfeit_is_approved_over_its_member_amount_and_id() {
        assert_eq!(
            Forfeit::eip712_encode_type(),
            "Forfeit(address member,address token,uint256 amount,uint256 id,uint256 deadline)"
        );
        let contract = Address::repeat_byte(7);
        let f = Forfeit::new(Address::repeat_byte(1), Address::ZERO, U256::from(5), 3, 100);
        let approval = f.approval("approve", 56, contract);
        assert_eq!((approval.kind.as_str(), approval.total, approval.nonce), (FORFEIT, U256::from(5), U256::from(3)));
        assert_eq!(approval.payload, f.digest(56, contract));
        let other = Forfeit::new(Address::repeat_byte(2), Address::ZERO, U256::from(5), 3, 100);
        assert_ne!(other.approval("approve", 56, contract).digest(56, contract), approval.digest(56, contract));
    }
}

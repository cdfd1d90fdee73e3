//! What a signed-in wallet may do: a user's or an admin's access ([`Role`]), and the staff roles it holds now
//! ([`StaffRoles`]).

use ledger::staff::StaffRole;
use serde::{Deserialize, Serialize};

/// What a signed-in wallet may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A signed-in wallet that holds no staff role.
    User,
    /// A wallet holding at least one staff role ([`StaffRoles`]): it may open the console; each admin route checks
    /// the role it needs.
    Admin,
}

/// The staff roles a wallet holds now (`staff_roles`, read on every request: a role revoked stops working at once,
/// whatever its access token says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StaffRoles(u8);

impl StaffRoles {
    fn bit(role: StaffRole) -> u8 {
        1 << (role as u8)
    }

    /// Whether `role` is among them.
    pub fn has(self, role: StaffRole) -> bool {
        self.0 & Self::bit(role) != 0
    }

    /// Whether any of `roles` is among them.
    pub fn any_of(self, roles: &[StaffRole]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Whether the wallet is staff at all.
    pub fn is_staff(self) -> bool {
        self.0 != 0
    }

    /// Their names, in [`StaffRole::ALL`]'s order.
    pub fn names(self) -> Vec<String> {
        StaffRole::ALL.into_iter().filter(|r| self.has(*r)).map(|r| r.as_str().to_owned()).collect()
    }
}

impl FromIterator<StaffRole> for StaffRoles {
    fn from_iter<I: IntoIterator<Item = StaffRole>>(roles: I) -> Self {
        Self(roles.into_iter().fold(0, |bits, r| bits | Self::bit(r)))
    }
}

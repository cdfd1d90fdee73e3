//! Account permissions as java-tron keeps and checks them (multi-signature, TRON's own — there is no contract
//! wallet in it):
//!
//! * Every account has an owner permission (id 0) and one or more active permissions (ids 2, 3, …); a new account's
//!   are its own key alone, threshold 1, the active one allowed java-tron's default operations
//!   (`AccountCapsule.createDefaultOwnerPermission` / `createDefaultActivePermission`).
//! * `AccountPermissionUpdateContract` replaces them, validated as `AccountPermissionUpdateActuator.validate` does
//!   ([`validate_update`], its messages) and charged `getUpdateAccountPermissionFee`; ids are reassigned as
//!   `AccountCapsule.updatePermissions` does ([`Permissions::updated`]).
//! * A transaction names the permission it is signed under (`Permission_id` of its contract); its signatures are
//!   checked against it as `TransactionCapsule.validateSignature` and `checkWeight` do ([`check_permission`],
//!   [`check_weight`]): an active permission must allow the contract's type, no more signatures than the
//!   permission has keys, each of 65 bytes from a key of the permission, no key twice, and the weights reaching the
//!   threshold ("sig error" otherwise).

use alloy::primitives::Address;

use crate::{
    proto::{AccountPermissionUpdateContract, Key, Permission, permission::PermissionType},
    tron_address,
};

/// java-tron's default operations of a new account's active permission (mainnet's `getActiveDefaultOperations`):
/// every contract type but `AccountPermissionUpdateContract` (46) and a few retired ones.
pub(crate) const ACTIVE_DEFAULT_OPERATIONS: &str = "7fff1fc0033efb0f000000000000000000000000000000000000000000000000";
/// The contract types a permission may name (`getAvailableContractType`): the defaults and 46.
pub(crate) const AVAILABLE_CONTRACT_TYPES: &str = "7fff1fc0037efb0f000000000000000000000000000000000000000000000000";

/// An account's permissions (no account on this node is a witness).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Permissions {
    pub(crate) owner: Permission,
    pub(crate) actives: Vec<Permission>,
}

fn key_of(address: Address) -> Key {
    Key { address: tron_address(address), weight: 1 }
}

impl Permissions {
    /// A new account's: its own key alone, threshold 1.
    pub(crate) fn default_for(address: Address) -> Self {
        Self {
            owner: Permission {
                r#type: PermissionType::Owner as i32,
                id: 0,
                permission_name: "owner".into(),
                threshold: 1,
                keys: vec![key_of(address)],
                ..Default::default()
            },
            actives: vec![Permission {
                r#type: PermissionType::Active as i32,
                id: 2,
                permission_name: "active".into(),
                threshold: 1,
                operations: alloy::hex::decode(ACTIVE_DEFAULT_OPERATIONS).expect("constant hex"),
                keys: vec![key_of(address)],
                ..Default::default()
            }],
        }
    }

    /// The permission of id `id` (java-tron's `AccountCapsule.getPermissionById`; 1, the witness's, is never set).
    pub(crate) fn by_id(&self, id: i32) -> Option<&Permission> {
        match id {
            0 => Some(&self.owner),
            1 => None,
            id => self.actives.iter().find(|p| p.id == id),
        }
    }

    /// What an update makes of them: the owner as id 0, the actives as 2, 3, … in their order.
    pub(crate) fn updated(update: &AccountPermissionUpdateContract) -> Self {
        let owner = Permission { id: 0, ..update.owner.clone().unwrap_or_default() };
        let actives =
            update.actives.iter().enumerate().map(|(i, p)| Permission { id: i as i32 + 2, ..p.clone() }).collect();
        Self { owner, actives }
    }
}

/// java-tron's name of a permission type, as its messages print it.
fn type_name(kind: i32) -> &'static str {
    match PermissionType::try_from(kind) {
        Ok(PermissionType::Owner) => "Owner",
        Ok(PermissionType::Witness) => "Witness",
        Ok(PermissionType::Active) => "Active",
        Err(_) => "UNRECOGNIZED",
    }
}

fn bit(bytes: &[u8], i: usize) -> bool {
    bytes.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// `AccountPermissionUpdateActuator.checkPermission`.
fn check_one(permission: &Permission, max_keys: usize) -> Result<(), String> {
    if permission.keys.len() > max_keys {
        return Err(format!("number of keys in permission should not be greater than {max_keys}"));
    }
    if permission.keys.is_empty() {
        return Err("key's count should be greater than 0".into());
    }
    if permission.r#type == PermissionType::Witness as i32 && permission.keys.len() != 1 {
        return Err("Witness permission's key count should be 1".into());
    }
    if permission.threshold <= 0 {
        return Err("permission's threshold should be greater than 0".into());
    }
    if permission.permission_name.chars().count() > 32 {
        return Err("permission's name is too long".into());
    }
    if permission.parent_id != 0 {
        return Err("permission's parent should be owner".into());
    }
    let mut addresses: Vec<&Vec<u8>> = permission.keys.iter().map(|k| &k.address).collect();
    addresses.sort();
    addresses.dedup();
    if addresses.len() != permission.keys.len() {
        return Err(format!("address should be distinct in permission {}", type_name(permission.r#type)));
    }
    let mut sum: i64 = 0;
    for key in &permission.keys {
        if crate::evm_address(&key.address).is_none() {
            return Err("key is not a validate address".into());
        }
        if key.weight <= 0 {
            return Err("key's weight should be greater than 0".into());
        }
        sum = sum.checked_add(key.weight).ok_or_else(|| "long overflow".to_owned())?;
    }
    if sum < permission.threshold {
        return Err(format!(
            "sum of all key's weight should not be less than threshold in permission {}",
            type_name(permission.r#type)
        ));
    }
    if permission.r#type != PermissionType::Active as i32 {
        if !permission.operations.is_empty() {
            return Err(format!("{} permission needn't operations", type_name(permission.r#type)));
        }
        return Ok(());
    }
    if permission.operations.len() != 32 {
        return Err("operations size must 32".into());
    }
    let available = alloy::hex::decode(AVAILABLE_CONTRACT_TYPES).expect("constant hex");
    for i in 0..256 {
        if bit(&permission.operations, i) && !bit(&available, i) {
            return Err(format!("{i} isn't a validate ContractType"));
        }
    }
    Ok(())
}

/// `AccountPermissionUpdateActuator.validate`, for an owner account that exists and is no witness; `Err` carries
/// java-tron's message (the broadcast answers it as `CONTRACT_VALIDATE_ERROR`).
pub(crate) fn validate_update(update: &AccountPermissionUpdateContract, max_keys: usize) -> Result<(), String> {
    let Some(owner) = &update.owner else { return Err("owner permission is missed".into()) };
    if update.witness.is_some() {
        return Err("account isn't witness can't set witness permission".into());
    }
    if update.actives.is_empty() {
        return Err("active permission is missed".into());
    }
    if update.actives.len() > 8 {
        return Err("active permission is too many".into());
    }
    if owner.r#type != PermissionType::Owner as i32 {
        return Err("owner permission type is error".into());
    }
    check_one(owner, max_keys)?;
    for active in &update.actives {
        if active.r#type != PermissionType::Active as i32 {
            return Err("active permission type is error".into());
        }
        check_one(active, max_keys)?;
    }
    Ok(())
}

/// `TransactionCapsule.checkPermission`: a transaction under an active permission must be of a type it allows.
pub(crate) fn check_permission(id: i32, permission: &Permission, contract_type: i32) -> Result<(), String> {
    if id != 0 {
        if permission.r#type != PermissionType::Active as i32 {
            return Err("Permission type is error".into());
        }
        if permission.operations.len() != 32 {
            return Err("operations size must be 32".into());
        }
        if !usize::try_from(contract_type).is_ok_and(|t| bit(&permission.operations, t)) {
            return Err("Permission denied".into());
        }
    }
    Ok(())
}

/// One signature of a transaction: its bytes, and who signed the transaction's id with it (or why no one can be
/// recovered).
pub(crate) type Signature = (Vec<u8>, Result<Address, String>);

/// `TransactionCapsule.checkWeight`: the weight `signatures` carry under `permission` and who signed, or java-tron's
/// message (more signatures than keys, a short signature, a signer outside the permission, a key twice).
pub(crate) fn check_weight(permission: &Permission, signatures: &[Signature]) -> Result<(i64, Vec<Address>), String> {
    if signatures.len() > permission.keys.len() {
        return Err(format!(
            "Signature count is {} more than key counts of permission : {}",
            signatures.len(),
            permission.keys.len()
        ));
    }
    let mut weight = 0i64;
    let mut signers = Vec::new();
    for (bytes, signer) in signatures {
        let signer = signer.clone()?;
        let base58 = abi::tron::to_base58(signer);
        let Some(key) = permission.keys.iter().find(|k| k.address == tron_address(signer)) else {
            return Err(format!(
                "{} is signed by {base58} but it is not contained of permission.",
                alloy::hex::encode(bytes)
            ));
        };
        if signers.contains(&signer) {
            return Err(format!("{base58} has signed twice!"));
        }
        signers.push(signer);
        weight += key.weight;
    }
    Ok((weight, signers))
}

//! What the contract's admin may send after the deployment ([`Action`]): every change of the signer, a money role, an
//! allowed token or the push gas is scheduled, applied once `changeDelay()` has passed, or cancelled; a token can be
//! disallowed and a pause lifted at once. Each action is its calldata, its method as the Safe Transaction Builder
//! shows it, and — for a scheduled change — the id it will be pending under (`applyChange(id)` needs it).

use std::fmt;

use abi::Settlement;
use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol_types::{SolCall, SolInterface, SolValue},
};

/// A money role the admin grants or revokes through a delayed change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// OPERATOR_ROLE: sends payout batches and liability commitments.
    Operator,
    /// TREASURER_ROLE: treasury transfers and refunds.
    Treasurer,
    /// PAUSER_ROLE: the kill switch.
    Pauser,
}

impl Role {
    /// Its name in the contract (`OPERATOR_ROLE`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Operator => "OPERATOR_ROLE",
            Self::Treasurer => "TREASURER_ROLE",
            Self::Pauser => "PAUSER_ROLE",
        }
    }

    /// Its id: keccak256 of its name, as the contract declares it.
    pub fn id(self) -> B256 {
        keccak256(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = eyre::Report;

    fn from_str(text: &str) -> eyre::Result<Self> {
        match text.to_ascii_uppercase().trim_end_matches("_ROLE") {
            "OPERATOR" => Ok(Self::Operator),
            "TREASURER" => Ok(Self::Treasurer),
            "PAUSER" => Ok(Self::Pauser),
            _ => eyre::bail!("{text:?} is no money role: OPERATOR_ROLE, TREASURER_ROLE or PAUSER_ROLE"),
        }
    }
}

/// One call of the admin on the Settlement contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `scheduleSignerRotation(newSigner)`.
    ScheduleSigner(Address),
    /// `scheduleRoleChange(role, account, grant)`.
    ScheduleRole {
        /// The role.
        role: Role,
        /// Who gets or loses it.
        account: Address,
        /// Grant (true) or revoke.
        grant: bool,
    },
    /// `scheduleTokenAllowance(token)`.
    ScheduleToken(Address),
    /// `schedulePushGas(native, token)`.
    SchedulePushGas {
        /// Gas per pushed native payment.
        native: u64,
        /// Gas per pushed token payment.
        token: u64,
    },
    /// `applyChange(id)`: a scheduled change whose delay has passed.
    Apply(B256),
    /// `cancelChange(id)`.
    Cancel(B256),
    /// `disallowToken(token)`: at once.
    DisallowToken(Address),
    /// `scheduleUnpause()`: the admin ends a pause only after the delay (a pauser ends its own at once, from its own
    /// wallet: issue 65).
    ScheduleUnpause,
}

/// The contract's `ChangeKind` (DelayedChanges.sol), as its `changeId` hashes it.
#[derive(Clone, Copy)]
#[repr(u8)]
enum ChangeKind {
    SignerRotation = 0,
    RoleGrant = 1,
    RoleRevocation = 2,
    TokenAllowance = 3,
    PushGas = 4,
    Unpause = 5,
}

fn change_id(kind: ChangeKind, args: Vec<u8>) -> B256 {
    keccak256((U256::from(kind as u8), Bytes::from(args)).abi_encode_params())
}

/// One parameter of a method, as the Safe Transaction Builder lists it: its name, its Solidity type, its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The parameter's name in the contract's source.
    pub name: &'static str,
    /// Its Solidity type.
    pub kind: &'static str,
    /// Its value as the Transaction Builder's form takes it (addresses checksummed, bools `true`/`false`, numbers
    /// in decimal, bytes32 in hex).
    pub value: String,
}

impl Action {
    /// The calldata.
    pub fn calldata(&self) -> Vec<u8> {
        match *self {
            Self::ScheduleSigner(signer) => Settlement::scheduleSignerRotationCall { newSigner: signer }.abi_encode(),
            Self::ScheduleRole { role, account, grant } => {
                Settlement::scheduleRoleChangeCall { role: role.id(), account, grant }.abi_encode()
            }
            Self::ScheduleToken(token) => Settlement::scheduleTokenAllowanceCall { token }.abi_encode(),
            Self::SchedulePushGas { native, token } => {
                Settlement::schedulePushGasCall { nativePushGas_: U256::from(native), tokenPushGas_: U256::from(token) }
                    .abi_encode()
            }
            Self::Apply(id) => Settlement::applyChangeCall { id }.abi_encode(),
            Self::Cancel(id) => Settlement::cancelChangeCall { id }.abi_encode(),
            Self::DisallowToken(token) => Settlement::disallowTokenCall { token }.abi_encode(),
            Self::ScheduleUnpause => Settlement::scheduleUnpauseCall {}.abi_encode(),
        }
    }

    /// The method's name and its parameters with their values.
    pub fn method(&self) -> (&'static str, Vec<Input>) {
        let address = |name, a: Address| Input { name, kind: "address", value: a.to_checksum(None) };
        let word = |name, w: B256| Input { name, kind: "bytes32", value: w.to_string() };
        let uint = |name, n: u64| Input { name, kind: "uint256", value: n.to_string() };
        match *self {
            Self::ScheduleSigner(signer) => ("scheduleSignerRotation", vec![address("newSigner", signer)]),
            Self::ScheduleRole { role, account, grant } => (
                "scheduleRoleChange",
                vec![
                    word("role", role.id()),
                    address("account", account),
                    Input { name: "grant", kind: "bool", value: grant.to_string() },
                ],
            ),
            Self::ScheduleToken(token) => ("scheduleTokenAllowance", vec![address("token", token)]),
            Self::SchedulePushGas { native, token } => {
                ("schedulePushGas", vec![uint("nativePushGas_", native), uint("tokenPushGas_", token)])
            }
            Self::Apply(id) => ("applyChange", vec![word("id", id)]),
            Self::Cancel(id) => ("cancelChange", vec![word("id", id)]),
            Self::DisallowToken(token) => ("disallowToken", vec![address("token", token)]),
            Self::ScheduleUnpause => ("scheduleUnpause", Vec::new()),
        }
    }

    /// The action `calldata` is, if it is one of the admin's calls of the Settlement contract.
    pub fn decode(calldata: &[u8]) -> Option<Self> {
        use Settlement::SettlementCalls as C;
        let role = |id: B256| [Role::Operator, Role::Treasurer, Role::Pauser].into_iter().find(|r| r.id() == id);
        Some(match Settlement::SettlementCalls::abi_decode(calldata).ok()? {
            C::scheduleSignerRotation(c) => Self::ScheduleSigner(c.newSigner),
            C::scheduleRoleChange(c) => Self::ScheduleRole { role: role(c.role)?, account: c.account, grant: c.grant },
            C::scheduleTokenAllowance(c) => Self::ScheduleToken(c.token),
            C::schedulePushGas(c) => Self::SchedulePushGas {
                native: c.nativePushGas_.try_into().ok()?,
                token: c.tokenPushGas_.try_into().ok()?,
            },
            C::applyChange(c) => Self::Apply(c.id),
            C::cancelChange(c) => Self::Cancel(c.id),
            C::disallowToken(c) => Self::DisallowToken(c.token),
            C::scheduleUnpause(_) => Self::ScheduleUnpause,
            _ => return None,
        })
    }

    /// For a scheduled change, the id it is pending under (the contract's `changeId(kind, args)`): what
    /// `applyChange` and `cancelChange` take.
    pub fn change_id(&self) -> Option<B256> {
        match *self {
            Self::ScheduleSigner(signer) => Some(change_id(ChangeKind::SignerRotation, signer.abi_encode())),
            Self::ScheduleRole { role, account, grant } => {
                let kind = if grant { ChangeKind::RoleGrant } else { ChangeKind::RoleRevocation };
                Some(change_id(kind, (role.id(), account).abi_encode_params()))
            }
            Self::ScheduleToken(token) => Some(change_id(ChangeKind::TokenAllowance, token.abi_encode())),
            Self::SchedulePushGas { native, token } => {
                Some(change_id(ChangeKind::PushGas, (U256::from(native), U256::from(token)).abi_encode_params()))
            }
            Self::ScheduleUnpause => Some(change_id(ChangeKind::Unpause, Vec::new())),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, inputs) = self.method();
        let args: Vec<String> = inputs.iter().map(|i| format!("{} = {}", i.name, i.value)).collect();
        write!(f, "{name}({})", args.join(", "))?;
        if let Self::ScheduleRole { role, grant, .. } = self {
            write!(f, " [{} {}]", if *grant { "grant" } else { "revoke" }, role.name())?;
        }
        if let Some(id) = self.change_id() {
            write!(f, ", pending as change {id} until applied (applyChange) or cancelled (cancelChange)")?;
        }
        Ok(())
    }
}

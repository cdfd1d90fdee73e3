//! The Settlement contract's powers over money, in words, and the alerts they raise (issues 42 and 44): the changes
//! waiting their delay (`pendingChanges()`: a signer rotation, a money role granted or revoked, a token allowed,
//! new push gas; and OpenZeppelin's transfer of the default admin role, `pendingDefaultAdmin()`), and the admin
//! events of the blocks read since the last run (a change applied or cancelled, a pause, an admin transfer begun…).
//! Pure: reading them is [`crate::watch`]'s.
//!
//! * `pending_change` — one alert per pending change, keyed by the change's id (`pending_change:<chain>:<id>`;
//!   the admin transfer `pending_change:<chain>:default_admin:<new admin>`), critical for a signer rotation, a
//!   money-role grant and an admin transfer, warning otherwise. It stays firing while the change is pending, is
//!   sent again once its delay has passed (ready to apply), and resolves when it is applied or cancelled.
//! * `admin_event` — one alert per transaction with admin events (`admin_event:<chain>:<tx>`), a warning, or
//!   critical when it grants a power (a signer rotation, a money role, the admin role) that was never paged as
//!   pending. The reconciler keeps it firing for `admin_event_hold_secs` after it was first seen, then resolves
//!   it: it is news to be seen, not a condition to fix.

use std::collections::BTreeSet;

use abi::Settlement::SettlementEvents;
use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol_types::SolValue,
};

use crate::alerts::{Alert, Severity, span};

/// The check of the pending changes.
pub const PENDING_CHANGE: &str = "pending_change";
/// The check of the admin events.
pub const ADMIN_EVENT: &str = "admin_event";

/// Every `kind` label of a pending change (`reconciler_pending_changes`), in the contract's order, then the admin
/// transfer.
pub const KINDS: [&str; 7] =
    ["signer_rotation", "role_grant", "role_revocation", "token_allowance", "push_gas", "unpause", "admin_transfer"];

/// A role's name: `OPERATOR_ROLE`, `TREASURER_ROLE`, `PAUSER_ROLE`, `DEFAULT_ADMIN_ROLE`, or its hash.
pub fn role_name(role: B256) -> String {
    if role == B256::ZERO {
        return "DEFAULT_ADMIN_ROLE".to_owned();
    }
    for name in ["OPERATOR_ROLE", "TREASURER_ROLE", "PAUSER_ROLE"] {
        if keccak256(name) == role {
            return name.to_owned();
        }
    }
    role.to_string()
}

/// What a scheduled change does, decoded from its kind and abi-encoded arguments (`ChangeKind` in
/// `contracts/src/DelayedChanges.sol`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Kind 0: the contract's signer becomes `signer`.
    SignerRotation {
        /// The new signer.
        signer: Address,
    },
    /// Kind 1: `account` gets `role` (a money role).
    RoleGrant {
        /// The role.
        role: B256,
        /// Who gets it.
        account: Address,
    },
    /// Kind 2: `account` loses `role`.
    RoleRevocation {
        /// The role.
        role: B256,
        /// Who loses it.
        account: Address,
    },
    /// Kind 3: `token` is allowed for registrations and retopups.
    TokenAllowance {
        /// The token (zero: the native coin).
        token: Address,
    },
    /// Kind 4: new gas caps for each pushed payment.
    PushGas {
        /// Native payments.
        native: U256,
        /// Token payments.
        token: U256,
    },
    /// Kind 5: the admin's end of a pause (a pauser ends its own at once; the admin's waits the delay: issue 65).
    Unpause,
    /// A kind or arguments this build cannot read (a newer contract): shown raw.
    Unknown {
        /// The kind's number.
        kind: u8,
        /// The arguments as the contract holds them.
        args: Bytes,
    },
}

impl Change {
    /// The change of `kind` with `args` (abi-encoded as the contract's `schedule…` functions encode them).
    pub fn decode(kind: u8, args: &Bytes) -> Self {
        let unknown = || Self::Unknown { kind, args: args.clone() };
        match kind {
            0 => Address::abi_decode(args).map(|signer| Self::SignerRotation { signer }).unwrap_or_else(|_| unknown()),
            1 | 2 => match <(B256, Address)>::abi_decode_params(args) {
                Ok((role, account)) if kind == 1 => Self::RoleGrant { role, account },
                Ok((role, account)) => Self::RoleRevocation { role, account },
                Err(_) => unknown(),
            },
            3 => Address::abi_decode(args).map(|token| Self::TokenAllowance { token }).unwrap_or_else(|_| unknown()),
            4 => <(U256, U256)>::abi_decode_params(args)
                .map(|(native, token)| Self::PushGas { native, token })
                .unwrap_or_else(|_| unknown()),
            5 if args.is_empty() => Self::Unpause,
            _ => unknown(),
        }
    }

    /// The `kind` label: `signer_rotation`, `role_grant`, `role_revocation`, `token_allowance`, `push_gas`
    /// (`unknown` for a kind this build cannot read).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::SignerRotation { .. } => KINDS[0],
            Self::RoleGrant { .. } => KINDS[1],
            Self::RoleRevocation { .. } => KINDS[2],
            Self::TokenAllowance { .. } => KINDS[3],
            Self::PushGas { .. } => KINDS[4],
            Self::Unpause => KINDS[5],
            Self::Unknown { .. } => "unknown",
        }
    }

    /// Whether it hands someone a power over money: a signer rotation or a role grant (every role a change can
    /// grant is a money role: operator, treasurer, pauser). A kind this build cannot read counts as one.
    pub fn grants_power(&self) -> bool {
        matches!(self, Self::SignerRotation { .. } | Self::RoleGrant { .. } | Self::Unknown { .. })
    }

    /// What it does, in words, addresses as `chain_id` shows them: "signer rotation to 0x…", "grant of
    /// TREASURER_ROLE to 0x…", "push gas to 10000/50000 (native/token)", "token 0x… allowed".
    pub fn words(&self, chain_id: u64) -> String {
        let show = |a: &Address| abi::tron::show(chain_id, *a);
        match self {
            Self::SignerRotation { signer } => format!("signer rotation to {}", show(signer)),
            Self::RoleGrant { role, account } => format!("grant of {} to {}", role_name(*role), show(account)),
            Self::RoleRevocation { role, account } => {
                format!("revocation of {} from {}", role_name(*role), show(account))
            }
            Self::TokenAllowance { token } if token.is_zero() => "native coin allowed".to_owned(),
            Self::TokenAllowance { token } => format!("token {} allowed", show(token)),
            Self::PushGas { native, token } => format!("push gas to {native}/{token} (native/token)"),
            Self::Unpause => "the admin's end of the pause".to_owned(),
            Self::Unknown { kind, args } => format!("change of unknown kind {kind} (args {args})"),
        }
    }

    /// `alert` with this change's own figures as details.
    fn details(&self, chain_id: u64, alert: Alert) -> Alert {
        let show = |a: &Address| abi::tron::show(chain_id, *a);
        match self {
            Self::SignerRotation { signer } => alert.detail("new_signer", show(signer)),
            Self::RoleGrant { role, account } | Self::RoleRevocation { role, account } => {
                alert.detail("role", role_name(*role)).detail("account", show(account))
            }
            Self::TokenAllowance { token } => alert.detail("token", show(token)),
            Self::PushGas { native, token } => alert.detail("native_push_gas", native).detail("token_push_gas", token),
            Self::Unpause => alert,
            Self::Unknown { args, .. } => alert.detail("args", args),
        }
    }
}

/// A change waiting its delay, as `pendingChanges()` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChange {
    /// Its id (`changeId(kind, args)`): what `applyChange` and `cancelChange` take.
    pub id: B256,
    /// What it does.
    pub change: Change,
    /// Unix seconds (the chain's clock) from which it may be applied.
    pub ready_at: u64,
}

/// A transfer of the default admin role begun and not yet accepted (`pendingDefaultAdmin()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminTransfer {
    /// Who would become the admin.
    pub new_admin: Address,
    /// Unix seconds from which the new admin may accept it.
    pub accept_from: u64,
}

/// A chain's pending changes, read at one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingFigures {
    /// The chain.
    pub chain_id: u64,
    /// The block they were read at (on TRON the solidified block).
    pub block: u64,
    /// That block's timestamp: whether a change is ready to apply is the chain's clock's to say.
    pub block_time: u64,
    /// Every change waiting its delay.
    pub changes: Vec<PendingChange>,
    /// A transfer of the admin role under way, if any.
    pub admin_transfer: Option<AdminTransfer>,
}

/// The dedup key of a pending change's alert.
pub fn pending_key(chain_id: u64, id: B256) -> String {
    format!("{PENDING_CHANGE}:{chain_id}:{id}")
}

/// The dedup key of a pending transfer of the admin role to `new_admin`.
pub fn admin_transfer_key(chain_id: u64, new_admin: Address) -> String {
    format!("{PENDING_CHANGE}:{chain_id}:default_admin:{new_admin}")
}

/// `secs` (unix) as RFC 3339, UTC.
pub fn utc(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("unix {secs}"))
}

/// When it can apply, as of `now` (the chain's clock): "can apply from <time>" or "ready to apply since <time>".
/// A change of stage changes the summary, so the alert is sent again when the delay has passed.
fn when(ready_at: u64, now: u64, verb: &str) -> String {
    if now >= ready_at {
        format!("ready to {verb} since {}", utc(ready_at))
    } else {
        format!("can {verb} from {}", utc(ready_at))
    }
}

/// One `pending_change` alert per pending change, and one for a pending transfer of the admin role.
pub fn pending_changes(f: &PendingFigures) -> Vec<Alert> {
    let chain = f.chain_id.to_string();
    let mut alerts: Vec<Alert> = f
        .changes
        .iter()
        .map(|p| {
            let id = p.id.to_string();
            let severity = if p.change.grants_power() { Severity::Critical } else { Severity::Warning };
            let summary = format!(
                "{} pending on chain {chain}: {}",
                p.change.words(f.chain_id),
                when(p.ready_at, f.block_time, "apply")
            );
            let alert = Alert::new(PENDING_CHANGE, &[&chain, &id], severity, summary)
                .detail("chain_id", f.chain_id)
                .detail("change_id", &id)
                .detail("kind", p.change.kind_name())
                .detail("ready_at", p.ready_at)
                .detail("ready_at_utc", utc(p.ready_at))
                .detail("cancel", format!("cancelChange({id})"))
                .detail("block", f.block);
            p.change.details(f.chain_id, alert)
        })
        .collect();
    if let Some(t) = &f.admin_transfer {
        let admin = abi::tron::show(f.chain_id, t.new_admin);
        let summary = format!(
            "transfer of the default admin role to {admin} pending on chain {chain}: {}",
            when(t.accept_from, f.block_time, "accept")
        );
        let key = admin_transfer_key(f.chain_id, t.new_admin);
        let mut alert = Alert::new(PENDING_CHANGE, &[], Severity::Critical, summary)
            .detail("chain_id", f.chain_id)
            .detail("kind", KINDS[6])
            .detail("new_admin", admin)
            .detail("ready_at", t.accept_from)
            .detail("ready_at_utc", utc(t.accept_from))
            .detail("cancel", "cancelDefaultAdminTransfer()")
            .detail("block", f.block);
        alert.dedup_key = key;
        alerts.push(alert);
    }
    alerts
}

/// An admin event of the Settlement contract: each changes who may move money, or how, or stops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminEvent {
    /// `ChangeApplied`: a scheduled change took effect (its effect's own event follows in the same transaction).
    ChangeApplied {
        /// The change's id.
        id: B256,
        /// What it did.
        change: Change,
    },
    /// `ChangeCancelled`: a scheduled change will not happen.
    ChangeCancelled {
        /// The change's id.
        id: B256,
        /// What it would have done.
        change: Change,
    },
    /// `SignerRotated` (from the zero address: the deployment).
    SignerRotated {
        /// The key the contract trusted before.
        previous: Address,
        /// The key it trusts now.
        new: Address,
    },
    /// `RoleGranted`.
    RoleGranted {
        /// The role.
        role: B256,
        /// Who got it.
        account: Address,
    },
    /// `RoleRevoked` (renounced when `account` is `sender`).
    RoleRevoked {
        /// The role.
        role: B256,
        /// Who lost it.
        account: Address,
        /// Who revoked it.
        sender: Address,
    },
    /// `TokenAllowed`: a token allowed (after its delay) or disallowed (at once).
    TokenAllowed {
        /// The token.
        token: Address,
        /// Allowed or disallowed.
        allowed: bool,
    },
    /// `PushGasSet`.
    PushGasSet {
        /// Native payments' cap before.
        previous_native: U256,
        /// Native payments' cap now.
        native: U256,
        /// Token payments' cap before.
        previous_token: U256,
        /// Token payments' cap now.
        token: U256,
    },
    /// `Paused`.
    Paused {
        /// The pauser.
        by: Address,
    },
    /// `Unpaused`.
    Unpaused {
        /// The admin.
        by: Address,
    },
    /// `DefaultAdminTransferScheduled`: the admin role's own delayed transfer begun.
    AdminTransferScheduled {
        /// Who would become the admin.
        new_admin: Address,
        /// From when it may accept.
        accept_from: u64,
    },
    /// `DefaultAdminTransferCanceled`.
    AdminTransferCanceled,
    /// `DefaultAdminDelayChangeScheduled`: the admin transfer's delay is changing.
    AdminDelayChangeScheduled {
        /// The new delay (seconds).
        new_delay: u64,
        /// From when it holds.
        effective_from: u64,
    },
    /// `DefaultAdminDelayChangeCanceled`.
    AdminDelayChangeCanceled,
    /// `RoleAdminChanged`.
    RoleAdminChanged {
        /// The role.
        role: B256,
        /// Its new admin role.
        admin_role: B256,
    },
    /// `NoncesCancelled`: outstanding signed payloads burnt.
    NoncesCancelled {
        /// The bitmap word.
        word: U256,
        /// The nonces of it burnt.
        mask: U256,
    },
}

/// Topic 0 of every [`AdminEvent`]: what the reconciler asks the node's logs for.
pub fn admin_event_signatures() -> Vec<B256> {
    use abi::Settlement as S;
    use alloy::sol_types::SolEvent;
    vec![
        S::ChangeApplied::SIGNATURE_HASH,
        S::ChangeCancelled::SIGNATURE_HASH,
        S::SignerRotated::SIGNATURE_HASH,
        S::RoleGranted::SIGNATURE_HASH,
        S::RoleRevoked::SIGNATURE_HASH,
        S::TokenAllowed::SIGNATURE_HASH,
        S::PushGasSet::SIGNATURE_HASH,
        S::Paused::SIGNATURE_HASH,
        S::Unpaused::SIGNATURE_HASH,
        S::DefaultAdminTransferScheduled::SIGNATURE_HASH,
        S::DefaultAdminTransferCanceled::SIGNATURE_HASH,
        S::DefaultAdminDelayChangeScheduled::SIGNATURE_HASH,
        S::DefaultAdminDelayChangeCanceled::SIGNATURE_HASH,
        S::RoleAdminChanged::SIGNATURE_HASH,
        S::NoncesCancelled::SIGNATURE_HASH,
    ]
}

impl AdminEvent {
    /// The admin event `event` is, if it is one.
    pub fn from_event(event: SettlementEvents) -> Option<Self> {
        use SettlementEvents as E;
        Some(match event {
            E::ChangeApplied(e) => Self::ChangeApplied { id: e.id, change: Change::decode(e.kind, &e.args) },
            E::ChangeCancelled(e) => Self::ChangeCancelled { id: e.id, change: Change::decode(e.kind, &e.args) },
            E::SignerRotated(e) => Self::SignerRotated { previous: e.previousSigner, new: e.newSigner },
            E::RoleGranted(e) => Self::RoleGranted { role: e.role, account: e.account },
            E::RoleRevoked(e) => Self::RoleRevoked { role: e.role, account: e.account, sender: e.sender },
            E::TokenAllowed(e) => Self::TokenAllowed { token: e.token, allowed: e.allowed },
            E::PushGasSet(e) => Self::PushGasSet {
                previous_native: e.previousNativePushGas,
                native: e.newNativePushGas,
                previous_token: e.previousTokenPushGas,
                token: e.newTokenPushGas,
            },
            E::Paused(e) => Self::Paused { by: e.account },
            E::Unpaused(e) => Self::Unpaused { by: e.account },
            E::DefaultAdminTransferScheduled(e) => {
                Self::AdminTransferScheduled { new_admin: e.newAdmin, accept_from: e.acceptSchedule.to() }
            }
            E::DefaultAdminTransferCanceled(_) => Self::AdminTransferCanceled,
            E::DefaultAdminDelayChangeScheduled(e) => {
                Self::AdminDelayChangeScheduled { new_delay: e.newDelay.to(), effective_from: e.effectSchedule.to() }
            }
            E::DefaultAdminDelayChangeCanceled(_) => Self::AdminDelayChangeCanceled,
            E::RoleAdminChanged(e) => Self::RoleAdminChanged { role: e.role, admin_role: e.newAdminRole },
            E::NoncesCancelled(e) => Self::NoncesCancelled { word: e.wordPos, mask: e.mask },
            _ => return None,
        })
    }

    /// The event's name as the contract emits it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ChangeApplied { .. } => "ChangeApplied",
            Self::ChangeCancelled { .. } => "ChangeCancelled",
            Self::SignerRotated { .. } => "SignerRotated",
            Self::RoleGranted { .. } => "RoleGranted",
            Self::RoleRevoked { .. } => "RoleRevoked",
            Self::TokenAllowed { .. } => "TokenAllowed",
            Self::PushGasSet { .. } => "PushGasSet",
            Self::Paused { .. } => "Paused",
            Self::Unpaused { .. } => "Unpaused",
            Self::AdminTransferScheduled { .. } => "DefaultAdminTransferScheduled",
            Self::AdminTransferCanceled => "DefaultAdminTransferCanceled",
            Self::AdminDelayChangeScheduled { .. } => "DefaultAdminDelayChangeScheduled",
            Self::AdminDelayChangeCanceled => "DefaultAdminDelayChangeCanceled",
            Self::RoleAdminChanged { .. } => "RoleAdminChanged",
            Self::NoncesCancelled { .. } => "NoncesCancelled",
        }
    }

    /// What happened, in words, addresses as `chain_id` shows them.
    pub fn words(&self, chain_id: u64) -> String {
        let show = |a: &Address| abi::tron::show(chain_id, *a);
        match self {
            Self::ChangeApplied { id, .. } => format!("change {id} applied"),
            Self::ChangeCancelled { id, change } => format!("change {id} cancelled ({})", change.words(chain_id)),
            Self::SignerRotated { previous, new } => format!("signer rotated from {} to {}", show(previous), show(new)),
            Self::RoleGranted { role, account } => format!("{} granted to {}", role_name(*role), show(account)),
            Self::RoleRevoked { role, account, sender } if account == sender => {
                format!("{} renounced by {}", role_name(*role), show(account))
            }
            Self::RoleRevoked { role, account, .. } => format!("{} revoked from {}", role_name(*role), show(account)),
            Self::TokenAllowed { token, allowed } => {
                let token = if token.is_zero() { "native coin".to_owned() } else { format!("token {}", show(token)) };
                format!("{token} {}", if *allowed { "allowed" } else { "disallowed" })
            }
            Self::PushGasSet { previous_native, native, previous_token, token } => {
                format!("push gas set to {native}/{token} (native/token; was {previous_native}/{previous_token})")
            }
            Self::Paused { by } => format!("contract paused by {}", show(by)),
            Self::Unpaused { by } => format!("contract unpaused by {}", show(by)),
            Self::AdminTransferScheduled { new_admin, accept_from } => format!(
                "transfer of the default admin role to {} begun (acceptable from {})",
                show(new_admin),
                utc(*accept_from)
            ),
            Self::AdminTransferCanceled => "transfer of the default admin role cancelled".to_owned(),
            Self::AdminDelayChangeScheduled { new_delay, effective_from } => format!(
                "default admin delay change to {} scheduled (effective from {})",
                span(*new_delay),
                utc(*effective_from)
            ),
            Self::AdminDelayChangeCanceled => "default admin delay change cancelled".to_owned(),
            Self::RoleAdminChanged { role, admin_role } => {
                format!("admin role of {} set to {}", role_name(*role), role_name(*admin_role))
            }
            Self::NoncesCancelled { word, mask } => format!("signed nonces cancelled (word {word}, mask {mask:#x})"),
        }
    }
}

/// An admin event as read from the chain's logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminLog {
    /// Its block.
    pub block: u64,
    /// Its transaction (on TRON the transaction id).
    pub tx: B256,
    /// Its position in the block.
    pub log_index: u64,
    /// What it says.
    pub event: AdminEvent,
}

/// The admin events of one transaction, in log order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminTx {
    /// Its block.
    pub block: u64,
    /// The transaction (on TRON the transaction id).
    pub tx: B256,
    /// Its admin events.
    pub events: Vec<AdminEvent>,
}

impl AdminTx {
    /// The contract's creation: its constructor alone emits `SignerRotated` from the zero address (a scheduled
    /// rotation to the zero address is refused), with the first roles, tokens and push gas. Not a change.
    pub fn is_deployment(&self) -> bool {
        self.events.iter().any(|e| matches!(e, AdminEvent::SignerRotated { previous, .. } if previous.is_zero()))
    }

    /// Whether it applies a scheduled change.
    fn applies_change(&self) -> bool {
        self.events.iter().any(|e| matches!(e, AdminEvent::ChangeApplied { .. }))
    }

    /// The keys of the `pending_change` alerts that should have announced the powers this transaction grants:
    /// a signer rotation or role grant applied (its change's key), the admin role accepted (the admin transfer's
    /// key). A signer rotation or money-role grant outside an applied change — which this contract never emits —
    /// needs a key nothing has: `unannounced:<tx>`.
    pub fn announcements(&self, chain_id: u64) -> Vec<String> {
        let mut keys = Vec::new();
        for event in &self.events {
            match event {
                AdminEvent::ChangeApplied { id, change } if change.grants_power() => {
                    keys.push(pending_key(chain_id, *id));
                }
                AdminEvent::RoleGranted { role, account } if role.is_zero() => {
                    keys.push(admin_transfer_key(chain_id, *account));
                }
                AdminEvent::SignerRotated { .. } | AdminEvent::RoleGranted { .. } if !self.applies_change() => {
                    keys.push(format!("unannounced:{}", self.tx));
                }
                _ => {}
            }
        }
        keys
    }
}

/// `logs` (in chain order) grouped by transaction, the deployment's own left out.
pub fn transactions(logs: &[AdminLog]) -> Vec<AdminTx> {
    let mut txs: Vec<AdminTx> = Vec::new();
    for log in logs {
        match txs.last_mut() {
            Some(last) if last.tx == log.tx && last.block == log.block => last.events.push(log.event.clone()),
            _ => txs.push(AdminTx { block: log.block, tx: log.tx, events: vec![log.event.clone()] }),
        }
    }
    txs.retain(|tx| !tx.is_deployment());
    txs
}

/// One `admin_event` alert per transaction of `txs` on `chain_id`, first seen at `seen_at` (unix seconds): a
/// warning, or critical when it grants a power whose announcement ([`AdminTx::announcements`]) is not among
/// `announced` (the keys that ever fired).
pub fn admin_events(chain_id: u64, txs: &[AdminTx], announced: &BTreeSet<String>, seen_at: u64) -> Vec<Alert> {
    let chain = chain_id.to_string();
    txs.iter()
        .map(|tx| {
            let unannounced = tx.announcements(chain_id).into_iter().any(|k| !announced.contains(&k));
            let words: Vec<String> = tx.events.iter().map(|e| e.words(chain_id)).collect();
            let mut summary = format!("{} on chain {chain}", words.join("; "));
            let severity = if unannounced {
                summary = format!("never paged while pending: {summary}");
                Severity::Critical
            } else {
                Severity::Warning
            };
            let names: Vec<&str> = tx.events.iter().map(AdminEvent::name).collect();
            let mut alert = Alert::new(ADMIN_EVENT, &[&chain, &tx.tx.to_string()], severity, summary)
                .detail("chain_id", chain_id)
                .detail("tx", tx.tx)
                .detail("tx_block", tx.block)
                .detail("events", names.join(","))
                .detail("seen_at", seen_at);
            let ids: Vec<String> = tx
                .events
                .iter()
                .filter_map(|e| match e {
                    AdminEvent::ChangeApplied { id, .. } | AdminEvent::ChangeCancelled { id, .. } => {
                        Some(id.to_string())
                    }
                    _ => None,
                })
                .collect();
            if !ids.is_empty() {
                alert = alert.detail("change_ids", ids.join(","));
            }
            if unannounced {
                alert = alert.detail("unannounced", "a power granted that no pending_change alert ever announced");
            }
            alert
        })
        .collect()
}

/// Whether an `admin_event` alert first seen at `seen_at` is still shown at `now` after a hold of `hold_secs`.
pub fn still_shown(alert: &Alert, now: u64, hold_secs: u64) -> bool {
    let seen_at = alert.details.get("seen_at").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    seen_at.saturating_add(hold_secs) > now
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;

    const CHAIN: u64 = 31337;
    const SIGNER: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

    fn id(n: u8) -> B256 {
        B256::repeat_byte(n)
    }

    #[test]
    fn changes_decode_from_their_abi_arguments_and_read_as_words() {
        let treasurer = keccak256("TREASURER_ROLE");
        let cases = [
            (0u8, SIGNER.abi_encode(), "signer rotation to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            (
                1,
                (treasurer, SIGNER).abi_encode_params(),
                "grant of TREASURER_ROLE to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            ),
            (
                2,
                (keccak256("OPERATOR_ROLE"), SIGNER).abi_encode_params(),
                "revocation of OPERATOR_ROLE from 0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            ),
            (3, SIGNER.abi_encode(), "token 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 allowed"),
            (4, (U256::from(10_000), U256::from(50_000)).abi_encode_params(), "push gas to 10000/50000 (native/token)"),
            (5, Vec::new(), "the admin's end of the pause"),
        ];
        for (kind, args, words) in cases {
            let change = Change::decode(kind, &Bytes::from(args));
            assert_eq!(change.words(CHAIN), words);
            assert_eq!(change.kind_name(), KINDS[kind as usize]);
        }
        let unknown = Change::decode(9, &Bytes::from(vec![1, 2]));
        assert_eq!(unknown.kind_name(), "unknown");
        assert!(unknown.grants_power(), "what cannot be read is treated as the worst");
        // On a TRON chain the addresses are shown as TRON shows them.
        let tron = Change::SignerRotation { signer: SIGNER }.words(3_448_148_188);
        assert!(tron.starts_with("signer rotation to T"), "{tron}");
    }

    #[test]
    fn a_pending_rotation_is_critical_keyed_by_its_id_and_sent_again_once_ready() {
        let figures = |now| PendingFigures {
            chain_id: CHAIN,
            block: 7,
            block_time: now,
            changes: vec![
                PendingChange { id: id(1), change: Change::SignerRotation { signer: SIGNER }, ready_at: 1_000 },
                PendingChange {
                    id: id(2),
                    change: Change::PushGas { native: U256::from(10_000), token: U256::from(50_000) },
                    ready_at: 2_000,
                },
            ],
            admin_transfer: None,
        };
        let alerts = pending_changes(&figures(500));
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].dedup_key, format!("pending_change:31337:{}", id(1)));
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert_eq!(
            alerts[0].summary,
            "signer rotation to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 pending on chain 31337: can apply from \
             1970-01-01T00:16:40Z"
        );
        assert_eq!(alerts[0].details["cancel"], format!("cancelChange({})", id(1)));
        assert_eq!(alerts[1].severity, Severity::Warning);
        assert!(alerts[1].summary.starts_with("push gas to 10000/50000"), "{}", alerts[1].summary);
        // A later block while still waiting: nothing new to send.
        let later = pending_changes(&figures(600));
        assert_eq!(crate::alerts::diff(&alerts, &later), Default::default());
        // The delay passed: sent again, saying so.
        let ready = pending_changes(&figures(1_000));
        let changes = crate::alerts::diff(&alerts, &ready);
        assert_eq!(changes.fire.len(), 1);
        assert!(changes.fire[0].summary.ends_with("ready to apply since 1970-01-01T00:16:40Z"));
    }

    #[test]
    fn an_admin_transfer_under_way_is_a_critical_pending_change() {
        let figures = PendingFigures {
            chain_id: CHAIN,
            block: 7,
            block_time: 0,
            changes: vec![],
            admin_transfer: Some(AdminTransfer { new_admin: SIGNER, accept_from: 86_400 }),
        };
        let alerts = pending_changes(&figures);
        assert_eq!(alerts[0].dedup_key, admin_transfer_key(CHAIN, SIGNER));
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert_eq!(alerts[0].details["kind"], "admin_transfer");
    }

    fn log(block: u64, tx: u8, event: AdminEvent) -> AdminLog {
        AdminLog { block, tx: id(tx), log_index: 0, event }
    }

    #[test]
    fn an_applied_rotation_is_a_warning_when_it_was_paged_pending_and_critical_when_never() {
        let change = Change::SignerRotation { signer: SIGNER };
        let logs = [
            // The deployment: not a change.
            log(1, 1, AdminEvent::SignerRotated { previous: Address::ZERO, new: Address::repeat_byte(9) }),
            log(1, 1, AdminEvent::RoleGranted { role: B256::ZERO, account: Address::repeat_byte(8) }),
            log(5, 2, AdminEvent::SignerRotated { previous: Address::repeat_byte(9), new: SIGNER }),
            log(5, 2, AdminEvent::ChangeApplied { id: id(7), change }),
            log(6, 3, AdminEvent::Paused { by: Address::repeat_byte(8) }),
        ];
        let txs = transactions(&logs);
        assert_eq!(txs.len(), 2, "{txs:?}");
        assert_eq!(txs[0].announcements(CHAIN), [pending_key(CHAIN, id(7))]);
        let announced = BTreeSet::from([pending_key(CHAIN, id(7))]);
        let alerts = admin_events(CHAIN, &txs, &announced, 100);
        assert_eq!(alerts[0].dedup_key, format!("admin_event:31337:{}", id(2)));
        assert_eq!(alerts[0].severity, Severity::Warning);
        assert_eq!(
            alerts[0].summary,
            format!(
                "signer rotated from {} to {SIGNER}; change {} applied on chain 31337",
                Address::repeat_byte(9),
                id(7)
            )
        );
        assert_eq!(alerts[0].details["change_ids"], id(7).to_string());
        assert_eq!(alerts[1].severity, Severity::Warning);
        assert!(alerts[1].summary.starts_with("contract paused by"));
        let never = admin_events(CHAIN, &txs, &BTreeSet::new(), 100);
        assert_eq!(never[0].severity, Severity::Critical);
        assert!(never[0].summary.starts_with("never paged while pending: signer rotated"));
        assert!(still_shown(&never[0], 150, 60) && !still_shown(&never[0], 160, 60));
    }

    #[test]
    fn spans_read_as_on_call_reads_them() {
        assert_eq!(span(9), "9s");
        assert_eq!(span(250), "4m 10s");
        assert_eq!(span(3_900), "1h 5m");
        assert_eq!(span(3 * 86_400 - 60), "2d 23h 59m");
    }
}

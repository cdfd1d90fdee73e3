//! The lifecycle's words as types: an outflow's kind, an authorisation's stored status, the outflow's own status, the
//! stage the two make together, and what a staff signature does. Each is stored and shown by its snake-case name;
//! the database holds the same lists as `CHECK` constraints (a test compares them with [`OutflowKind::ALL`] and
//! [`AuthorisationStatus::ALL`]).

use sqlx::Postgres;

/// An enum stored and shown by name: `ALL`, `as_str`, `parse`, and its `TEXT` reading, `Serialize` and `Display`.
macro_rules! named {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in lifecycle order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and shown name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value named `name`, if any.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl sqlx::Type<Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let name = <&str as sqlx::Decode<Postgres>>::decode(value)?;
                $name::parse(name).ok_or_else(|| format!("unknown {} {name:?}", stringify!($name)).into())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named! {
    /// What leaves custody (or, for a forfeit, what a liability root may fall by) under an authorisation.
    pub enum OutflowKind {
        /// A payout batch (subject `payout_batches.id`).
        PayoutBatch = "payout_batch",
        /// A transfer of the company's funds (subject `treasury_transfers.id`).
        TreasuryTransfer = "treasury_transfer",
        /// The refund of a quarantined payment (subject `treasury_transfers.id`).
        Refund = "refund",
        /// A forfeit of a member's held rewards (subject `forfeits.id`); nothing leaves custody.
        Forfeit = "forfeit",
        /// A solvency epoch's liability root (subject `solvency_epochs.id`): the system's, approved when recorded.
        SolvencyCommitment = "solvency_commitment",
    }
}

impl OutflowKind {
    /// The kinds staff propose and approve: what the approvals queue shows unless asked for another.
    pub const STAFF: [OutflowKind; 4] =
        [OutflowKind::PayoutBatch, OutflowKind::TreasuryTransfer, OutflowKind::Refund, OutflowKind::Forfeit];

    /// Whether the system approves it when recorded (a solvency commitment): no staff signature is asked for.
    pub fn is_system(self) -> bool {
        self == OutflowKind::SolvencyCommitment
    }

    /// Whether its subject is a `treasury_transfers` row (a transfer or a refund).
    pub fn is_treasury(self) -> bool {
        matches!(self, OutflowKind::TreasuryTransfer | OutflowKind::Refund)
    }
}

named! {
    /// An authorisation's own status, as stored.
    pub enum AuthorisationStatus {
        /// Waiting for the proposer's and approvers' signatures.
        Proposed = "proposed",
        /// Enough signatures are in; the outflow's own status says the rest.
        Approved = "approved",
        /// An approver rejected it, with a reason.
        Rejected = "rejected",
        /// Its deadline passed by the chain's clock before the outflow was signed.
        Expired = "expired",
    }
}

impl AuthorisationStatus {
    /// Whether it may still take a staff signature or decision (`proposed` or `approved`).
    pub fn is_open(self) -> bool {
        matches!(self, AuthorisationStatus::Proposed | AuthorisationStatus::Approved)
    }

    /// Whether it closed without its outflow (`rejected` or `expired`): the outflow is built anew.
    pub fn is_closed(self) -> bool {
        !self.is_open()
    }
}

named! {
    /// The outflow's own status in one vocabulary: a batch's as stored; a treasury transfer's, refund's or forfeit's
    /// as stored; a solvency epoch's in a batch's words (`built` is `building`, `sent` `submitted`, `committed`
    /// `executed`).
    pub enum OutflowStatus {
        /// A batch or solvency epoch not signed yet.
        Building = "building",
        /// A transfer, refund or forfeit not signed (or executed) yet.
        Proposed = "proposed",
        /// Signed, never sent.
        Signed = "signed",
        /// Sent at least once, not settled yet.
        Submitted = "submitted",
        /// Settled from the contract's event (a forfeit: carried out).
        Executed = "executed",
        /// Can never execute.
        Failed = "failed",
        /// A batch whose rewards went back to pending.
        Cancelled = "cancelled",
        /// Its deadline passed before it executed.
        Expired = "expired",
        /// Its authorisation was rejected.
        Rejected = "rejected",
        /// No outflow row answers the authorisation's subject.
        Unknown = "unknown",
    }
}

impl OutflowStatus {
    /// Whether the outflow still awaits its signature (a batch or epoch `building`, a transfer, refund or forfeit
    /// `proposed`).
    pub fn is_open(self) -> bool {
        matches!(self, OutflowStatus::Building | OutflowStatus::Proposed)
    }
}

named! {
    /// Where an outflow stands in the one lifecycle ([`super::Authorisation::stage`]).
    pub enum Stage {
        /// Waiting for signatures.
        Proposed = "proposed",
        /// Approved, not signed by the signer yet.
        Approved = "approved",
        /// Signed by the signer, not sent.
        Signed = "signed",
        /// Sent, not settled.
        Sent = "sent",
        /// Settled.
        Executed = "executed",
        /// Rejected by an approver.
        Rejected = "rejected",
        /// Past its deadline before it executed.
        Expired = "expired",
        /// Can never execute.
        Failed = "failed",
        /// Cancelled (a batch).
        Cancelled = "cancelled",
    }
}

named! {
    /// What a staff wallet's signature on an authorisation does.
    pub enum SignAction {
        /// The proposer's own signature of the proposal.
        Propose = "propose",
        /// Another approver's approval.
        Approve = "approve",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_value_and_nothing_else_does() {
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            name: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(name(v)), Some(v));
                assert_eq!(parse(&name(v).to_uppercase()), None);
            }
            assert_eq!(parse(""), None);
        }
        round_trip(OutflowKind::ALL, OutflowKind::as_str, OutflowKind::parse);
        round_trip(AuthorisationStatus::ALL, AuthorisationStatus::as_str, AuthorisationStatus::parse);
        round_trip(OutflowStatus::ALL, OutflowStatus::as_str, OutflowStatus::parse);
        round_trip(Stage::ALL, Stage::as_str, Stage::parse);
        round_trip(SignAction::ALL, SignAction::as_str, SignAction::parse);
        assert_eq!(OutflowKind::STAFF.iter().filter(|k| k.is_system()).count(), 0);
        assert!(OutflowKind::ALL.iter().all(|k| k.is_system() || OutflowKind::STAFF.contains(k)));
    }
}

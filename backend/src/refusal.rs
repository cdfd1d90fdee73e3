//! Why a use case outside HTTP — an outflow's step, a chain's access, creating an asset — did not do what it was
//! asked: a stable code and words, in kinds the API answers each with its own status (the API's error module maps
//! them one to one) and a command-line tool prints. The API's own request errors (a malformed body, a rate limit, a
//! timeout) are not here.

use ledger::admin::AdminError;
use ledger::plan::InvalidVersion;

/// A use case's refusal; `code()` is the stable code a client or an operator matches on.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// A value it was given is malformed or out of range (the API's 400).
    #[error("{message}")]
    Malformed {
        /// The stable code.
        code: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// Well-formed but invalid input (422).
    #[error("{message}")]
    Unprocessable {
        /// The stable code.
        code: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// The step is not the caller's to take (403).
    #[error("{message}")]
    Forbidden {
        /// The stable code.
        code: &'static str,
        /// Why, in words.
        message: String,
    },
    /// No such thing (404 `not_found`).
    #[error("not found")]
    NotFound,
    /// No such thing, and the caller needs to know why (404 with its own code).
    #[error("{message}")]
    Missing {
        /// The stable code.
        code: &'static str,
        /// What is missing, in words.
        message: String,
    },
    /// It conflicts with what exists or with the state it is in (409).
    #[error("{message}")]
    Conflict {
        /// The stable code.
        code: &'static str,
        /// What it conflicts with, in words.
        message: String,
    },
    /// A conflict whose message's facts are also given as data.
    #[error("{message}")]
    ConflictWith {
        /// The stable code.
        code: &'static str,
        /// What it conflicts with, in words.
        message: String,
        /// The message's facts.
        details: serde_json::Value,
    },
    /// Something it needs is missing or not answering: the signer, a chain, a key (503).
    #[error("{message}")]
    Unavailable {
        /// The stable code.
        code: &'static str,
        /// What is missing, in words.
        message: String,
    },
    /// Anything else: the cause is logged, never shown.
    #[error("an internal error occurred")]
    Internal(#[from] eyre::Report),
}

impl Refusal {
    /// Invalid input with the stable `code` and `message`.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into() }
    }

    /// A conflict with the stable `code` and `message`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// Something needed is unavailable, with the stable `code` and `message`.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unavailable { code, message: message.into() }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Missing { code, .. }
            | Self::Conflict { code, .. }
            | Self::ConflictWith { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::NotFound => "not_found",
            Self::Internal(_) => "internal",
        }
    }
}

/// The constraints a use case may still run into after its own checks (when a concurrent request wrote the same row
/// between them), each with the refusal it gives when it sees that row itself: (constraint, code, message). Every
/// name is checked against the migrated schema (`backend/tests/api/errors.rs`).
pub const CONSTRAINT_REFUSALS: &[(&str, &str, &str)] = &[
    ("withdraw_requests_one_open", "withdraw_request_open", "a withdraw request of this asset is already open"),
    ("treasury_transfers_one_signed_refund", "refund_exists", "a refund of this payment is already signed"),
    (
        "plan_versions_asset_id_effective_from_block_key",
        "plan_version_exists",
        "a plan version of this asset already takes effect from that block",
    ),
];

/// A database error as a refusal: a constraint named in [`CONSTRAINT_REFUSALS`] is that conflict, a value the
/// database cannot take is malformed; anything else — another constraint, a row a query expected (`RowNotFound`: a
/// use case that refuses with not-found says so itself) — is internal.
impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            if let Some(&(_, code, message)) =
                db.constraint().and_then(|name| CONSTRAINT_REFUSALS.iter().find(|(c, ..)| *c == name))
            {
                return Self::Conflict { code, message: message.into() };
            }
            // invalid_text_representation, numeric_value_out_of_range, string_data_right_truncation
            if matches!(db.code().as_deref(), Some("22P02" | "22003" | "22001")) {
                return Self::Malformed {
                    code: "invalid_value",
                    message: "a value is out of range or malformed".into(),
                };
            }
        }
        Self::Internal(eyre::Report::new(e))
    }
}

/// An admin step's refusal (`ledger::admin`).
impl From<AdminError> for Refusal {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Db(e) => e.into(),
            AdminError::UnknownAsset(id) => Refusal::unprocessable("unknown_asset", format!("no asset {id}")),
            AdminError::UnknownUser(a) => Refusal::unprocessable(
                "unknown_user",
                format!("{} is not registered in this asset", a.to_checksum(None)),
            ),
            AdminError::NoChange(what) => Refusal::conflict("no_change", format!("nothing to do: {what}")),
            AdminError::InvalidVersion(InvalidVersion::NotInFuture { from, after }) => Refusal::unprocessable(
                "from_block_too_early",
                format!(
                    "from_block {from} is not after block {after} (the listener's confirmed head, the last applied \
                     event or the latest version's start, whichever is latest): the first allowed block is {}",
                    after.saturating_add(1)
                ),
            ),
            AdminError::InvalidVersion(e) => Refusal::unprocessable("invalid_plan", e.to_string()),
            AdminError::Refused { code, message } => Refusal::unprocessable(code, message),
            AdminError::Exists { code, message } => Refusal::Conflict { code, message },
            other => Refusal::Internal(eyre::Report::new(other)),
        }
    }
}

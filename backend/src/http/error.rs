//! The one error type of the API: clients see `{ "error": { "code", "message" } }` with a
//! stable code; internal causes are logged, never shown.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::refusal::Refusal;

/// Error body of every non-2xx answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error's stable code and its human-readable message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable (e.g. `invalid_address`, `refresh_token_reused`).
    pub code: String,
    /// Human-readable explanation, for people; programs match on `code`.
    pub message: String,
    /// What the message says as data, where a client writes it in its reader's language (only some codes; see each
    /// route's documentation): e.g. `payment_outstanding`'s `amount` and `until`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// Every way a request can fail; each answers its HTTP status with an [`ErrorBody`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Syntactically bad request (malformed JSON, unparsable value).
    #[error("{message}")]
    BadRequest {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// Well-formed but invalid input.
    #[error("{message}")]
    Unprocessable {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// No valid access token, or a sign-in or refresh refused (401).
    #[error("{message}")]
    Unauthorized {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// The wallet may not do this (403): it lacks the staff role the route needs (`forbidden`, the message names
    /// it), or the step is not theirs to take (`own_proposal`…).
    #[error("{message}")]
    Forbidden {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// No such resource (404 `not_found`).
    #[error("not found")]
    NotFound,
    /// No such resource, and the caller needs to know why (404 with its own code).
    #[error("{message}")]
    Missing {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// The request conflicts with what exists, e.g. the resource already exists (409).
    #[error("{message}")]
    Conflict {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// A conflict (409) whose message's facts are also given as data (`error.details`).
    #[error("{message}")]
    ConflictWith {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
        /// The answer's `error.details`.
        details: serde_json::Value,
    },
    /// A cap is used up for now (409); `Retry-After` says when room returns, when that is known.
    #[error("{message}")]
    CapReached {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
        /// Seconds until room returns, sent as `Retry-After`; `None` when that is not known.
        retry_after_secs: Option<u64>,
    },
    /// The body is not sent as `Content-Type: application/json` (415 `unsupported_media_type`).
    #[error("{message}")]
    UnsupportedMediaType {
        /// The answer's `error.message`.
        message: String,
    },
    /// The body is larger than the route reads (413 `payload_too_large`).
    #[error("request body too large")]
    PayloadTooLarge,
    /// The request (its body included) took longer than `[application.limits]` allows.
    #[error("the request took too long")]
    RequestTimeout,
    /// Too many requests from this client or wallet for now (429 `rate_limited`).
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait before retrying, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// Something the request needs is missing or not answering, such as Redis, the signer or a chain (503).
    #[error("{message}")]
    Unavailable {
        /// The answer's stable `error.code`.
        code: &'static str,
        /// The answer's `error.message`.
        message: String,
    },
    /// Anything else (500 `internal`): the cause is logged, never shown.
    #[error("an internal error occurred")]
    Internal(#[from] eyre::Report),
}

impl ApiError {
    /// A 400 with the stable `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    /// A 422 with the stable `code` and `message`.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into() }
    }

    /// A 401 with the stable `code` and `message`.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized { code, message: message.into() }
    }

    /// A 503 with the stable `code` and `message`.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unavailable { code, message: message.into() }
    }

    /// The HTTP status the error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound | Self::Missing { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::ConflictWith { .. } | Self::CapReached { .. } => StatusCode::CONFLICT,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable `error.code` the error answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Conflict { code, .. }
            | Self::ConflictWith { code, .. }
            | Self::Forbidden { code, .. }
            | Self::CapReached { code, .. }
            | Self::Missing { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::NotFound => "not_found",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(report) = &self {
            tracing::error!(error = ?report, "request failed");
        }
        let details = match &self {
            Self::ConflictWith { details, .. } => Some(details.clone()),
            _ => None,
        };
        let body =
            ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.to_string(), details } };
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::RateLimited { retry_after_secs }
        | Self::CapReached { retry_after_secs: Some(retry_after_secs), .. } = self
        {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

/// The request timeout's answer (the timeout layer's, empty) in the envelope: middleware around that layer.
pub async fn timeout_envelope(response: Response) -> Response {
    let from_layer = !response.headers().contains_key(axum::http::header::CONTENT_TYPE);
    if response.status() == StatusCode::REQUEST_TIMEOUT && from_layer {
        return ApiError::RequestTimeout.into_response();
    }
    response
}

pub use crate::refusal::CONSTRAINT_REFUSALS;

/// A use case's refusal, answered with its status one to one.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Malformed { code, message } => Self::BadRequest { code, message },
            Refusal::Unprocessable { code, message } => Self::Unprocessable { code, message },
            Refusal::Forbidden { code, message } => Self::Forbidden { code, message },
            Refusal::NotFound => Self::NotFound,
            Refusal::Missing { code, message } => Self::Missing { code, message },
            Refusal::Conflict { code, message } => Self::Conflict { code, message },
            Refusal::ConflictWith { code, message, details } => Self::ConflictWith { code, message, details },
            Refusal::Unavailable { code, message } => Self::Unavailable { code, message },
            Refusal::Internal(report) => Self::Internal(report),
        }
    }
}

/// A database error as the API answers it: [`Refusal`]'s reading (a named constraint's conflict, a malformed value's
/// 400, else internal).
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Refusal::from(e).into()
    }
}

/// Body rejections: syntax errors are 400, wrong shapes/types 422, never 500.
impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => Self::bad_request("malformed_json", e.body_text()),
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                Self::unprocessable(super::bounded::refusal_code(&text).unwrap_or("invalid_body"), text)
            }
            JsonRejection::MissingJsonContentType(_) => {
                Self::UnsupportedMediaType { message: "expected `Content-Type: application/json`".into() }
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other => Self::bad_request("invalid_body", other.body_text()),
        }
    }
}

//! The one error type of the API: clients see `{ "error": { "code", "message" } }` with a
//! stable code; internal causes are logged, never shown.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Error body of every non-2xx answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable (e.g. `invalid_address`, `refresh_token_reused`).
    pub code: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Syntactically bad request (malformed JSON, unparsable value).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Well-formed but invalid input.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("this action needs the admin role")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A cap is used up for now (409); `Retry-After` says when room returns, when that is known.
    #[error("{message}")]
    CapReached { code: &'static str, message: String, retry_after_secs: Option<u64> },
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    #[error("request body too large")]
    PayloadTooLarge,
    /// The request (its body included) took longer than `[application.limits]` allows.
    #[error("the request took too long")]
    RequestTimeout,
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    #[error("an internal error occurred")]
    Internal(#[from] eyre::Report),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into() }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized { code, message: message.into() }
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unavailable { code, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::CapReached { .. } => StatusCode::CONFLICT,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Conflict { code, .. }
            | Self::CapReached { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::Forbidden => "forbidden",
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
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.to_string() } };
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

/// Constraint violations and bad values are the client's fault (4xx), decided here once;
/// anything else from the database is internal.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = e {
            return Self::NotFound;
        }
        if let Some(db) = e.as_database_error() {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            match code.as_str() {
                // unique_violation
                "23505" => {
                    return Self::Conflict { code: "already_exists", message: "the resource already exists".into() };
                }
                // foreign_key_violation
                "23503" => return Self::unprocessable("unknown_reference", "refers to something that does not exist"),
                // check_violation, not_null_violation
                "23514" | "23502" => return Self::unprocessable("constraint_violated", "value not allowed"),
                // invalid_text_representation, numeric_value_out_of_range, string_data_right_truncation
                "22P02" | "22003" | "22001" => {
                    return Self::bad_request("invalid_value", "a value is out of range or malformed");
                }
                _ => {}
            }
        }
        Self::Internal(eyre::Report::new(e))
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

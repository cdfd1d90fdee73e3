//! The one error type of the HTTP layer: logs internals, shows clients a stable code in the same envelope as the
//! backend API (`{ "error": { "code", "message" } }`).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    api::{ErrorBody, ErrorEnvelope},
    auth::AuthFailure,
    intent::Malformed,
    key::KeyError,
    signing::SignError,
};

/// Why a request was answered with an error: its status and the stable code the client sees.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Authentication failed: 401, told as [`AuthFailure::public_code`].
    #[error("{}", .0.public_message())]
    Unauthorized(AuthFailure),
    /// The body is not JSON at all: 400 `malformed_json`.
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is larger than `MAX_BODY_BYTES` or could not be read: 413 `body_too_large`.
    #[error("request body too large or unreadable")]
    BodyUnreadable,
    /// JSON that is not a valid intent (or policy query): 422 `invalid_intent`.
    #[error("{0}")]
    InvalidIntent(String),
    /// The signing service refused or failed: 403 `policy.<rule>`, 409 `nonce_conflict`, 503 `key_unavailable`,
    /// `key_not_held` or `head_unavailable`, or 500 `internal`.
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl From<Malformed> for ApiError {
    fn from(m: Malformed) -> Self {
        ApiError::InvalidIntent(m.0)
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => ApiError::InvalidIntent(clipped(e.to_string())),
            _ => ApiError::MalformedJson(clipped(e.to_string())),
        }
    }
}

impl ApiError {
    /// The HTTP status answered.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyUnreadable => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidIntent(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Sign(SignError::Refused(_)) => StatusCode::FORBIDDEN,
            ApiError::Sign(SignError::NonceConflict { .. }) => StatusCode::CONFLICT,
            ApiError::Sign(SignError::Key(KeyError::Unavailable(_)) | SignError::KeyNotHeld { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Sign(SignError::Store(_) | SignError::Key(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Sign(SignError::NodeUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable code the client sees in the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(f) => f.public_code(),
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BodyUnreadable => "body_too_large",
            ApiError::InvalidIntent(_) => "invalid_intent",
            ApiError::Sign(e) => e.code(),
        }
    }

    /// The body clients see: internals are logged here and shown only as `internal error`.
    pub fn body(&self) -> ErrorBody {
        let message = if self.status().is_server_error() {
            tracing::error!(error = %self, "internal error");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        ErrorBody { code: self.code().to_owned(), message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(ErrorEnvelope { error: self.body() })).into_response();
        // Refused before its body was read: the connection still holds that body, so it is not kept for another.
        if matches!(self, ApiError::Unauthorized(_) | ApiError::BodyUnreadable) {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Longest error message a client is shown: a parser's message may quote the offending text (an unknown field's
/// name, say), which is then cut here.
const MESSAGE_MAX_LEN: usize = 300;

fn clipped(mut message: String) -> String {
    if message.len() > MESSAGE_MAX_LEN {
        message.truncate(message.floor_char_boundary(MESSAGE_MAX_LEN));
        message.push('…');
    }
    message
}

/// At most the first `max` bytes of `text` (on a character boundary): what the audit log shows of untrusted text.
pub(crate) fn clip(text: &str, max: usize) -> &str {
    &text[..text.floor_char_boundary(max)]
}

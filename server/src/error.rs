//! The one error type of the server and how each variant answers a client.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use touchpoint_wire::{ErrorBody, ErrorDetail};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed or a field is invalid; `code` says
    /// which rule, `index` which event of a batch when one is at fault.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        index: Option<usize>,
    },
    /// 401: no usable credentials were sent.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: credentials or origin do not grant this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: the site or resource does not exist.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 413: the body or the batch is larger than the limits.
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many requests from this client or for this site; retry after the given seconds.
    #[error("too many requests: retry in {0} s")]
    TooManyRequests(u64),
    /// 415: the body is neither `text/plain` nor `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: a dependency (the database) is not available right now.
    #[error("{0}")]
    Unavailable(String),
    /// 503: every slot for this kind of work is taken; retry in a second.
    #[error("{0}")]
    Busy(String),
    /// 409: the change needs a confirmation the request did not carry.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 408: the client stopped sending the body before it was complete.
    #[error("{0}")]
    RequestTimeout(String),
    /// 500: the database failed. Logged; the client sees a plain message.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// 500: a migration failed at start.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// 500: anything else that is our fault. Logged; never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Error::BadRequest {
            code,
            message: message.into(),
            index: None,
        }
    }

    /// A 400 about event `index` of a batch.
    pub fn in_event(code: &'static str, index: usize, message: impl Into<String>) -> Self {
        Error::BadRequest {
            code,
            message: message.into(),
            index: Some(index),
        }
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Error::NotFound {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Error::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) | Error::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The stable machine-readable code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest { code, .. }
            | Error::Forbidden { code, .. }
            | Error::NotFound { code, .. }
            | Error::Conflict { code, .. } => code,
            Error::Busy(_) => "busy",
            Error::RequestTimeout(_) => "request_timeout",
            Error::Unauthorized(_) => "unauthorized",
            Error::TooLarge(_) => "too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::TooManyRequests(_) => "rate_limited",
            Error::Unavailable(_) => "unavailable",
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "The server could not complete the request; it has been logged.".to_owned()
        } else {
            self.to_string()
        };
        let index = match &self {
            Error::BadRequest { index, .. } => *index,
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                index,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        match self {
            Error::TooManyRequests(seconds) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            }
            Error::Busy(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(1));
            }
            Error::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(2));
            }
            _ => {}
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

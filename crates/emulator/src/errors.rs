//! MassPay error bodies: the 1.0.0 `{title,message,code,error:{reason,details}}` shape and the
//! legacy `{"Exception": ..., "Errors": [...]}` shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A 1.0.0 error response.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{status}: {title} {message}")]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
    pub reason: Option<String>,
    pub details: Vec<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    title: &'a str,
    message: &'a str,
    code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorInner<'a>>,
}

#[derive(Serialize)]
struct ErrorInner<'a> {
    reason: &'a str,
    details: &'a [String],
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, title: &str, message: &str) -> Self {
        ApiError {
            status,
            title: title.to_string(),
            message: message.to_string(),
            reason: None,
            details: Vec::new(),
        }
    }

    pub(crate) fn with_error(mut self, reason: &str, details: Vec<String>) -> Self {
        self.reason = Some(reason.to_string());
        self.details = details;
        self
    }

    /// 400 "Bad request." with a reason and details.
    pub(crate) fn bad_request(reason: &str, details: Vec<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Bad request.",
            "The request was invalid or malformed. Please ensure that the request body conforms to the required format and that all required parameters are included.",
        )
        .with_error(reason, details)
    }

    pub(crate) fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized.",
            "The request requires user authentication. Please provide a valid API key in the Authorization header.",
        )
    }

    /// 404 with the standard sentence once, then `detail` when there is one.
    pub(crate) fn not_found(detail: &str) -> Self {
        const BASE: &str = "The requested resource could not be found.";
        let detail = detail.trim();
        let message = if detail.is_empty() || detail == BASE {
            BASE.to_string()
        } else {
            format!("{BASE} {}", detail.trim_start_matches(BASE).trim())
        };
        ApiError::new(StatusCode::NOT_FOUND, "Not found.", &message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
            "The method specified in the request is not allowed for the resource identified by the request URI.",
        )
    }

    pub(crate) fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error.",
            "The server encountered an unexpected condition which prevented it from fulfilling the request.",
        )
    }

    pub(crate) fn service_unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable.",
            "The server is currently unable to handle the request due to a temporary overloading or maintenance of the server.",
        )
    }

    pub(crate) fn gateway_timeout() -> Self {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "Gateway Time-out.",
            "The server, while acting as a gateway or proxy, did not receive a timely response from the upstream server.",
        )
    }

    pub(crate) fn too_many_requests() -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests.",
            "Too many requests have been sent in a given amount of time. Please retry later.",
        )
    }

    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        let body = ErrorBody {
            title: &self.title,
            message: &self.message,
            code: self.status.as_u16(),
            error: self.reason.as_deref().map(|reason| ErrorInner {
                reason,
                details: &self.details,
            }),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, self.body_bytes())
    }
}

/// The legacy (v0.1.x) 500 body.
pub(crate) fn legacy_internal_body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "Exception": "An unexpected error occurred while processing the request.",
        "Errors": ["Object reference not set to an instance of an object."]
    }))
    .unwrap_or_default()
}

/// A gateway's HTML 502 page.
pub(crate) fn bad_gateway_html() -> Response {
    let mut resp = (
        StatusCode::BAD_GATEWAY,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}

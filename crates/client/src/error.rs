use serde::Deserialize;
use std::fmt;

/// An error body from MassPay, in the current shape (`title`, `message`, `code`, `error`) or the
/// legacy v0.1.x shape (`Exception`, `Errors`). Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// A JSON number (`400`) or a string (`"400"`); kept as text.
    #[serde(default, deserialize_with = "number_or_string")]
    pub code: Option<String>,
    #[serde(default)]
    pub error: Option<ApiErrorDetail>,
    #[serde(default, rename = "Exception")]
    pub exception: Option<String>,
    #[serde(default, rename = "Errors")]
    pub errors: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorDetail {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub details: Option<Vec<String>>,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

impl ApiErrorBody {
    /// Parses an error body; `None` when the body is not JSON of either shape.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let parsed: Self = serde_json::from_slice(body).ok()?;
        let any = parsed.title.is_some()
            || parsed.message.is_some()
            || parsed.code.is_some()
            || parsed.error.is_some()
            || parsed.exception.is_some()
            || parsed.errors.is_some();
        any.then_some(parsed)
    }

    /// Every detail line, from either shape.
    pub fn details(&self) -> impl Iterator<Item = &str> {
        let current = self.error.iter().flat_map(|e| e.details.iter().flatten());
        current
            .chain(self.errors.iter().flatten())
            .map(String::as_str)
    }

    /// The KYC document-upload link MassPay hides inside `error.details` on a 400
    /// "Documentation required." answer: the first `https://` substring of a detail line.
    pub fn upload_link(&self) -> Option<String> {
        self.details().find_map(|d| {
            let start = d.find("https://")?;
            let link: String = d[start..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | ')' | ']' | '>'))
                .collect();
            Some(link.trim_end_matches(['.', ',', ';']).to_string())
        })
    }

    /// Whether this is the "documentation required" (KYC hold) answer.
    pub fn is_documentation_required(&self) -> bool {
        let reason = self
            .error
            .as_ref()
            .and_then(|e| e.reason.as_deref())
            .unwrap_or("");
        reason.eq_ignore_ascii_case("Additional documentation required")
            || self.details().any(|d| {
                d.contains("User is not active")
                    || d.contains("IDSelfieCollection")
                    || d.contains("upload")
            })
    }

    /// One line for humans: reason or message, then title or legacy exception.
    pub fn summary(&self) -> String {
        let reason = self.error.as_ref().and_then(|e| e.reason.clone());
        [
            reason,
            self.message.clone(),
            self.title.clone(),
            self.exception.clone(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .take(2)
        .collect::<Vec<_>>()
        .join(": ")
    }
}

/// Everything that can go wrong talking to MassPay. Messages name the endpoint and the status and
/// never carry the API key (it is only ever in a request header) or a tax ID.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("MassPay {endpoint} answered HTTP {status} after {tries} tr{}{}", if *tries == 1 { "y" } else { "ies" }, body_suffix(.body))]
    Api {
        endpoint: String,
        status: u16,
        tries: u32,
        body: Option<Box<ApiErrorBody>>,
    },
    #[error("could not reach MassPay {endpoint} after {tries} tr{}: {source}", if *tries == 1 { "y" } else { "ies" })]
    Transport {
        endpoint: String,
        tries: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("MassPay {endpoint} sent a body that could not be decoded: {message}")]
    Decode { endpoint: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
}

fn body_suffix(body: &Option<Box<ApiErrorBody>>) -> String {
    match body.as_deref().map(ApiErrorBody::summary) {
        Some(s) if !s.is_empty() => format!(" ({s})"),
        _ => String::new(),
    }
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn body(&self) -> Option<&ApiErrorBody> {
        match self {
            ClientError::Api { body, .. } => body.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for ApiErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason.as_deref().unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_shape_with_upload_link() {
        let body = br#"{"title":"Documentation required.","message":"The account is currently inactive","code":400,
            "error":{"reason":"Additional documentation required","details":["User is not active",
            "Please upload a Bank Statement or Paper Check for Account Number 12345 at the following link: https://l.maspay.io/abc123"]}}"#;
        let e = ApiErrorBody::parse(body).unwrap();
        assert_eq!(e.code.as_deref(), Some("400"));
        assert!(e.is_documentation_required());
        assert_eq!(
            e.upload_link().as_deref(),
            Some("https://l.maspay.io/abc123")
        );
    }

    #[test]
    fn code_as_string_and_legacy_shape() {
        let e = ApiErrorBody::parse(br#"{"message":"x","code":"504"}"#).unwrap();
        assert_eq!(e.code.as_deref(), Some("504"));
        let legacy =
            ApiErrorBody::parse(br#"{"Exception":"Internal error","Errors":["db down"]}"#).unwrap();
        assert_eq!(legacy.exception.as_deref(), Some("Internal error"));
        assert_eq!(legacy.details().collect::<Vec<_>>(), vec!["db down"]);
        assert!(ApiErrorBody::parse(b"<html>").is_none());
        assert!(ApiErrorBody::parse(b"{}").is_none());
    }

    #[test]
    fn veriff_link_extracted() {
        let e = ApiErrorBody::parse(
            br#"{"code":400,"error":{"details":["Not a valid IDSelfieCollection","Please upload a government issued ID at the following link: https://magic.veriff.me/v/xyz."]}}"#,
        )
        .unwrap();
        assert_eq!(
            e.upload_link().as_deref(),
            Some("https://magic.veriff.me/v/xyz")
        );
    }
}

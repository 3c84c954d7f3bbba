use serde::Deserialize;
use std::fmt;

/// An error body from MassPay, in the current shape (`title`, `message`, `code`, `error`) or the
/// legacy v0.1.x shape (`Exception`, `Errors`). Unknown fields are ignored. `Debug` hides the
/// links inside the detail lines (a KYC upload link is personal).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
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

#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorDetail {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub details: Option<Vec<String>>,
}

/// A detail line with every `http(s)://…` link replaced by `<link>`.
pub(crate) fn redact_links(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = [rest.find("http://"), rest.find("https://")]
        .into_iter()
        .flatten()
        .min()
    {
        out.push_str(&rest[..i]);
        out.push_str("<link>");
        let tail = &rest[i..];
        rest = &tail[tail.find(char::is_whitespace).unwrap_or(tail.len())..];
    }
    out.push_str(rest);
    out
}

impl fmt::Debug for ApiErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiErrorDetail")
            .field("reason", &self.reason)
            .field(
                "details",
                &self
                    .details
                    .as_ref()
                    .map(|d| d.iter().map(|l| redact_links(l)).collect::<Vec<_>>()),
            )
            .finish()
    }
}

impl fmt::Debug for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiErrorBody")
            .field("title", &self.title)
            .field("message", &self.message)
            .field("code", &self.code)
            .field("error", &self.error)
            .field("exception", &self.exception)
            .field(
                "errors",
                &self
                    .errors
                    .as_ref()
                    .map(|d| d.iter().map(|l| redact_links(l)).collect::<Vec<_>>()),
            )
            .finish()
    }
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
    /// The body did not decode. `message` names the field path, line and column and the kind
    /// of problem, never the offending value.
    #[error("MassPay {endpoint} sent a body that could not be decoded: {message}")]
    Decode { endpoint: String, message: String },
    #[error("MassPay {endpoint} sent a body larger than the limit of {limit} bytes; refused")]
    BodyTooLarge { endpoint: String, limit: u64 },
    #[error("MassPay {endpoint}: the retry budget of this call is spent after {tries} tries")]
    BudgetSpent { endpoint: String, tries: u32 },
    /// Paging did not end on its own (a page repeated, or more pages than the bound).
    #[error("MassPay {endpoint}: {message}")]
    Paging { endpoint: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
}

fn body_suffix(body: &Option<Box<ApiErrorBody>>) -> String {
    match body.as_deref().map(ApiErrorBody::summary) {
        Some(s) if !s.is_empty() => format!(" ({s})"),
        _ => String::new(),
    }
}

/// Decodes a JSON body into `T`; on failure, an error naming the endpoint, the field path, the
/// line and the column and the kind of problem, but not the value (serde_json's own messages
/// quote it, and it may be a tax ID).
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    endpoint: &str,
    bytes: &[u8],
) -> Result<T, ClientError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ClientError::Decode {
            endpoint: endpoint.to_string(),
            message: describe_json_error(&path, &inner),
        }
    })?;
    de.end().map_err(|e| ClientError::Decode {
        endpoint: endpoint.to_string(),
        message: describe_json_error(".", &e),
    })?;
    Ok(value)
}

/// A serde_json error without any value it may quote.
pub(crate) fn describe_json_error(path: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = e.to_string();
    let core = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(a, _)| a);
    let what = match e.classify() {
        Category::Syntax => "not valid JSON".to_string(),
        Category::Eof => "the body ended early".to_string(),
        Category::Io => "the body could not be read".to_string(),
        Category::Data => {
            let expected = core
                .rsplit_once(", expected ")
                .map(|(_, exp)| exp)
                .filter(|exp| !exp.contains('"'));
            if core.starts_with("missing field `") || core.starts_with("duplicate field `") {
                core.to_string()
            } else if core.starts_with("invalid type") {
                match expected {
                    Some(x) => format!("wrong type (expected {x})"),
                    None => "wrong type".to_string(),
                }
            } else if core.starts_with("invalid length") {
                "wrong number of elements".to_string()
            } else {
                match expected {
                    Some(x) if core.starts_with("invalid value") => {
                        format!("invalid value (expected {x})")
                    }
                    _ => "invalid value".to_string(),
                }
            }
        }
    };
    let path = if path.is_empty() { "." } else { path };
    format!(
        "{what} at `{path}` (line {}, column {})",
        e.line(),
        e.column()
    )
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
    fn debug_hides_upload_links() {
        let e = ApiErrorBody::parse(
            br#"{"code":400,"error":{"reason":"Additional documentation required","details":["User is not active","Please upload at the following link: https://l.maspay.io/secret123 now"]}}"#,
        )
        .unwrap();
        let d = format!("{e:?}");
        assert!(!d.contains("secret123"), "{d}");
        assert!(d.contains("<link> now"), "{d}");
    }

    #[test]
    fn decode_errors_name_the_place_not_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            n: u32,
            s: String,
        }
        let err = decode_json::<Vec<T>>(
            "GET /x",
            br#"[{"n":1,"s":"a"},{"n":"123-45-6789","s":"b"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("123-45-6789"), "{err}");
        assert!(
            err.contains("GET /x") && err.contains("[1].n") && err.contains("line 1"),
            "{err}"
        );
        let err = decode_json::<T>("GET /x", br#"{"n":1}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `s`"), "{err}");
        let err = decode_json::<T>("GET /x", br#"{"n":1,"s":"987654321"#)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("987654321"), "{err}");
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

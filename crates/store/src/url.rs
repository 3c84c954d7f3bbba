//! Database URLs: which backend, where a SQLite file is, and a form that is safe to print.

use crate::{Backend, StoreError};

/// Adds `mode=rwc` to a SQLite URL so the file is created on first use.
pub fn normalize_db_url(url: &str) -> Result<(String, Backend), StoreError> {
    normalize_with_mode(url, "rwc")
}

/// [`normalize_db_url`] with the SQLite open mode to add when the URL names none (`rwc` creates
/// the file, `rw` never does).
pub(crate) fn normalize_with_mode(url: &str, mode: &str) -> Result<(String, Backend), StoreError> {
    let u = url.trim();
    if let Some(rest) = u.strip_prefix("sqlite:") {
        if rest.contains("mode=") || rest.contains(":memory:") {
            return Ok((u.to_string(), Backend::Sqlite));
        }
        let sep = if rest.contains('?') { '&' } else { '?' };
        return Ok((format!("{u}{sep}mode={mode}"), Backend::Sqlite));
    }
    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        return Ok((u.to_string(), Backend::Postgres));
    }
    // Redact anything after a scheme: a URL may carry a password.
    Err(StoreError::UnsupportedUrl(
        u.split("://")
            .next()
            .unwrap_or("")
            .chars()
            .take(20)
            .collect(),
    ))
}

/// Where a SQLite URL points (for placing the key file beside it).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.trim_start_matches("//");
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.into())
}

/// Query parameters whose value is a secret.
const SECRET_PARAMS: &[&str] = &["password", "pass", "passwd", "pwd", "sslpassword", "secret"];

/// The URL with any password replaced by `***`: the one in `user:password@` and any
/// `password=`-like query parameter. Safe for errors and logs.
pub fn redact_db_url(url: &str) -> String {
    let u = url.trim();
    let (scheme, rest) = match u.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, u),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    // userinfo ends at the last '@' before the path.
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let mut out = String::with_capacity(u.len());
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    out.push_str(&authority);
    out.push_str(path);
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                    format!("{k}=***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// `HOST:PORT` of a PostgreSQL URL (for connection errors; never the user or password).
pub(crate) fn postgres_target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host_port = if host_port.is_empty() {
        "localhost"
    } else {
        host_port
    };
    // `[::1]:5432`, `[::1]`, `host:5432`, `host`
    let has_port = match host_port.rfind(']') {
        Some(i) => host_port[i..].contains(':'),
        None => host_port.contains(':'),
    };
    if has_port {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    }
}

/// Strips userinfo, query and fragment from an HTTP(S) base URL (an origin to record).
pub(crate) fn strip_url_secrets(url: &str) -> String {
    let u = url.trim();
    let u = u.split(['?', '#']).next().unwrap_or("");
    match u.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => u.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(
            normalize_db_url("sqlite://masspay-tax.db").unwrap().0,
            "sqlite://masspay-tax.db?mode=rwc"
        );
        assert_eq!(
            normalize_db_url("sqlite://x.db?mode=ro").unwrap().0,
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            normalize_with_mode("sqlite://x.db", "rw").unwrap().0,
            "sqlite://x.db?mode=rw"
        );
        assert_eq!(
            normalize_db_url("postgres://u@h/db").unwrap().1,
            Backend::Postgres
        );
        let e = normalize_db_url("mysql://user:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"));
        assert_eq!(
            sqlite_path("sqlite://dir/masspay-tax.db?mode=rwc"),
            Some("dir/masspay-tax.db".into())
        );
        assert_eq!(sqlite_path("sqlite:///abs/x.db"), Some("/abs/x.db".into()));
    }

    #[test]
    fn targets_and_origins() {
        assert_eq!(
            postgres_target("postgres://u:pw@db.example:6543/x"),
            "db.example:6543"
        );
        assert_eq!(
            postgres_target("postgres://u@h/x?sslmode=require"),
            "h:5432"
        );
        assert_eq!(postgres_target("postgresql://[::1]/x"), "[::1]:5432");
        assert_eq!(
            strip_url_secrets("https://me:pw@api.masspay.io/v1.0.0/payout/?k=1#f"),
            "https://api.masspay.io/v1.0.0/payout/"
        );
    }
}

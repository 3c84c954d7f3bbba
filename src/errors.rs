//! Error chains a person can read: each cause once, in order.

/// `outer: inner: innermost`, skipping a cause whose text is already contained in what was said
/// (libraries often repeat their source's message in their own).
pub fn chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || parts.iter().any(|p| p.contains(text)) {
            continue;
        }
        // A later, longer message that contains an earlier one replaces nothing: keep order.
        parts.push(text.to_string());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn each_cause_once() {
        let inner: Result<(), std::io::Error> = Err(std::io::Error::other("database is locked"));
        let e = inner
            .context("database is locked")
            .context("syncing tax year 2025")
            .unwrap_err();
        assert_eq!(chain(&e), "syncing tax year 2025: database is locked");
    }
}

//! Where a store's data came from: the built-in sandbox (emulated payees) or a real MassPay
//! environment (its base URL, never the key). Recorded in `meta` under `origin` by the first sync
//! that commits; a sync from the other kind of origin is refused and leaves the store unchanged.
//! Stores from before origins were recorded get theirs from their latest completed sync run.

use crate::url::strip_url_secrets;
use crate::{Store, StoreError};
use sqlx::{Any, Executor};
use std::fmt;

/// The label the CLI's built-in sandbox gives its runs (`sync_runs.source`).
pub const SANDBOX_LABEL_PREFIX: &str = "sandbox";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in emulator: emulated payees, not anyone's real data.
    Sandbox,
    /// A MassPay environment (real data), by base URL (userinfo, query and fragment stripped).
    MassPay { base_url: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Sandbox => f.write_str("the built-in sandbox (emulated payees)"),
            Origin::MassPay { base_url } => write!(f, "MassPay at {base_url} (real payees)"),
        }
    }
}

impl Origin {
    /// A MassPay environment; secrets in the URL (userinfo, query) are dropped.
    pub fn masspay(base_url: &str) -> Origin {
        Origin::MassPay {
            base_url: strip_url_secrets(base_url),
        }
    }

    /// From a sync run's `source` label: the sandbox's label starts with `sandbox`, a real
    /// source's label is its base URL.
    pub fn from_source_label(label: &str) -> Origin {
        if label
            .trim_start()
            .to_ascii_lowercase()
            .starts_with(SANDBOX_LABEL_PREFIX)
        {
            Origin::Sandbox
        } else {
            Origin::masspay(label)
        }
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self, Origin::Sandbox)
    }

    /// Same kind of origin (sandbox vs real MassPay): what decides whether a sync may write.
    pub fn same_kind(&self, other: &Origin) -> bool {
        self.is_sandbox() == other.is_sandbox()
    }

    /// The `meta` value: `sandbox` or `masspay URL`.
    pub(crate) fn to_meta(&self) -> String {
        match self {
            Origin::Sandbox => "sandbox".into(),
            Origin::MassPay { base_url } => format!("masspay {base_url}"),
        }
    }

    pub(crate) fn from_meta(v: &str) -> Origin {
        match v.strip_prefix("masspay ") {
            Some(url) => Origin::MassPay {
                base_url: url.to_string(),
            },
            None if v == "sandbox" => Origin::Sandbox,
            // Unknown text: treat as real data (the safe side: the sandbox will not write).
            None => Origin::MassPay {
                base_url: v.to_string(),
            },
        }
    }

    pub(crate) fn mismatch(store: Origin, requested: Origin) -> StoreError {
        let hint = if requested.is_sandbox() {
            "sandbox"
        } else {
            "masspay"
        };
        StoreError::OriginMismatch {
            store,
            requested,
            hint,
        }
    }
}

pub(crate) async fn read_origin<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Option<Origin>, StoreError> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'origin'")
        .fetch_optional(e)
        .await?;
    Ok(v.as_deref().map(Origin::from_meta))
}

/// Records `origin` unless one is recorded, then checks the kinds agree. Run inside the snapshot
/// transaction so the claim and the data commit together.
pub(crate) async fn claim_in(
    conn: &mut sqlx::AnyConnection,
    origin: &Origin,
) -> Result<Origin, StoreError> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ('origin', $1) ON CONFLICT (key) DO NOTHING")
        .bind(origin.to_meta())
        .execute(&mut *conn)
        .await?;
    let stored = read_origin(&mut *conn).await?.unwrap_or(origin.clone());
    if stored.same_kind(origin) {
        Ok(stored)
    } else {
        Err(Origin::mismatch(stored, origin.clone()))
    }
}

impl Store {
    /// Where this store's data came from; `None` for a store no sync has written yet.
    pub async fn origin(&self) -> Result<Option<Origin>, StoreError> {
        read_origin(&self.pool).await
    }

    /// Refuses, without writing anything, a sync from `origin` into a store whose data came from
    /// the other kind of origin. A fresh store accepts either.
    pub async fn check_origin(&self, origin: &Origin) -> Result<(), StoreError> {
        match self.origin().await? {
            Some(stored) if !stored.same_kind(origin) => {
                Err(Origin::mismatch(stored, origin.clone()))
            }
            _ => Ok(()),
        }
    }

    /// Claims the store for `origin` on first use (atomic: of two first claims one wins) and
    /// refuses another kind of origin afterwards. Returns the recorded origin.
    pub async fn claim_origin(&self, origin: &Origin) -> Result<Origin, StoreError> {
        let mut conn = self.pool.acquire().await?;
        claim_in(&mut conn, origin).await
    }

    /// Stores from before origins were recorded: the origin of their latest completed sync run.
    pub(crate) async fn infer_origin(&self) -> Result<(), StoreError> {
        if self.origin().await?.is_some() {
            return Ok(());
        }
        let label: Option<String> = sqlx::query_scalar(
            "SELECT source FROM sync_runs WHERE status = 'completed' ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        if let Some(label) = label {
            let origin = Origin::from_source_label(&label);
            tracing::info!(%origin, "recorded the origin of this store's data from its sync history");
            self.claim_origin(&origin).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_meta() {
        assert_eq!(
            Origin::from_source_label("sandbox (built-in emulator)"),
            Origin::Sandbox
        );
        let real = Origin::from_source_label("https://u:p@api.masspay.io/v1.0.0/payout/?x=1");
        assert_eq!(
            real,
            Origin::MassPay {
                base_url: "https://api.masspay.io/v1.0.0/payout/".into()
            }
        );
        assert_eq!(Origin::from_meta(&real.to_meta()), real);
        assert_eq!(Origin::from_meta("sandbox"), Origin::Sandbox);
        assert!(!real.same_kind(&Origin::Sandbox));
        let e = Origin::mismatch(real.clone(), Origin::Sandbox).to_string();
        assert!(e.contains("api.masspay.io") && e.contains("sandbox") && e.contains("--db"));
    }
}

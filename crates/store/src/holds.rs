//! KYC holds: one row per hold (a user has at most one hold that is not closed), every
//! transition kept with its time and source. The upload link is personal: encrypted at rest
//! (bound to the payee and the field), redacted in `Debug`.

use crate::{Store, StoreError};
use serde::Serialize;
use std::fmt;

/// Hold statuses that are still waiting on the payee or on MassPay.
pub const ACTIVE_STATUSES: [&str; 2] = ["open", "submitted"];

/// What a source saw: a payout refused for documentation, a payout in `HOLD`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HoldInput {
    pub user_token: String,
    pub reason: Option<String>,
    /// `bank_statement` or `government_id`.
    pub link_kind: Option<String>,
    /// **Personal.** The document upload link.
    pub upload_link: Option<String>,
    /// When it was seen (RFC 3339).
    pub at: String,
    /// `ingest`, `webhook`, `refresh`.
    pub source: String,
}

impl fmt::Debug for HoldInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoldInput")
            .field("user_token", &self.user_token)
            .field("reason", &self.reason)
            .field("link_kind", &self.link_kind)
            .field(
                "upload_link",
                &self.upload_link.as_ref().map(|_| "<redacted>"),
            )
            .field("at", &self.at)
            .field("source", &self.source)
            .finish()
    }
}

/// A hold as stored, the upload link decrypted.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct StoredHold {
    pub id: i64,
    pub user_token: String,
    pub status: String,
    pub reason: Option<String>,
    pub link_kind: Option<String>,
    /// **Personal.**
    pub upload_link: Option<String>,
    pub opened_at: String,
    pub last_kyc_status: Option<String>,
    pub last_event_at: String,
    pub source: String,
    pub closed_at: Option<String>,
}

impl fmt::Debug for StoredHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredHold")
            .field("id", &self.id)
            .field("user_token", &self.user_token)
            .field("status", &self.status)
            .field(
                "upload_link",
                &self.upload_link.as_ref().map(|_| "<redacted>"),
            )
            .field("opened_at", &self.opened_at)
            .finish()
    }
}

/// One transition of a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct HoldTransition {
    pub hold_id: i64,
    pub at: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub source: String,
    pub detail: Option<String>,
}

/// What [`Store::open_hold`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOpened {
    /// A new hold with this id.
    New(i64),
    /// The user's active hold got a new link or reason.
    Updated(i64),
    /// Nothing new (the same event again, or an event older than the last closed hold).
    Unchanged(Option<i64>),
}

type HoldRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
);

const HOLD_COLS: &str = "id, user_token, status, reason, link_kind, upload_link_enc, opened_at, \
                         last_kyc_status, last_event_at, source, closed_at";

impl Store {
    fn hold_from_row(&self, r: HoldRow) -> Result<StoredHold, StoreError> {
        let upload_link = match &r.5 {
            Some(enc) => Some(self.vault.decrypt_field(&r.1, "upload_link", enc)?),
            None => None,
        };
        Ok(StoredHold {
            id: r.0,
            user_token: r.1,
            status: r.2,
            reason: r.3,
            link_kind: r.4,
            upload_link,
            opened_at: r.6,
            last_kyc_status: r.7,
            last_event_at: r.8,
            source: r.9,
            closed_at: r.10,
        })
    }

    /// The user's hold that is still open or submitted.
    pub async fn active_hold(&self, user_token: &str) -> Result<Option<StoredHold>, StoreError> {
        let row: Option<HoldRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HOLD_COLS} FROM holds WHERE user_token = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1"
        )))
        .bind(user_token.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.hold_from_row(r)).transpose()
    }

    /// Opens a hold for the user, or updates the active one; idempotent. An event seen at or
    /// before the close of the user's last hold changes nothing (an old log line again).
    pub async fn open_hold(&self, h: &HoldInput) -> Result<HoldOpened, StoreError> {
        let mut tx = self.pool.begin().await?;
        let active: Option<(i64, Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT id, upload_link_enc, reason, last_event_at FROM holds WHERE user_token = $1 \
             AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(h.user_token.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let enc = match &h.upload_link {
            Some(l) => Some(self.vault.encrypt_field(&h.user_token, "upload_link", l)?),
            None => None,
        };
        if let Some((id, old_enc, old_reason, last)) = active {
            let old_link = match &old_enc {
                Some(e) => Some(self.vault.decrypt_field(&h.user_token, "upload_link", e)?),
                None => None,
            };
            let new_link = h.upload_link.is_some() && h.upload_link != old_link;
            let new_reason = h.reason.is_some() && h.reason != old_reason;
            if !new_link && !new_reason {
                if h.at > last {
                    sqlx::query("UPDATE holds SET last_event_at = $1 WHERE id = $2")
                        .bind(h.at.clone())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                return Ok(HoldOpened::Unchanged(Some(id)));
            }
            sqlx::query(
                "UPDATE holds SET upload_link_enc = COALESCE($1, upload_link_enc), \
                 link_kind = COALESCE($2, link_kind), reason = COALESCE($3, reason), \
                 last_event_at = CASE WHEN last_event_at < $4 THEN $4 ELSE last_event_at END WHERE id = $5",
            )
            .bind(enc)
            .bind(h.link_kind.clone())
            .bind(h.reason.clone())
            .bind(h.at.clone())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(HoldOpened::Updated(id));
        }
        let last_closed: Option<Option<String>> = sqlx::query_scalar(
            "SELECT MAX(closed_at) FROM holds WHERE user_token = $1 AND closed_at IS NOT NULL",
        )
        .bind(h.user_token.clone())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(Some(closed)) = last_closed
            && h.at <= closed
        {
            return Ok(HoldOpened::Unchanged(None));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO holds (user_token, status, reason, link_kind, upload_link_enc, opened_at, \
             last_event_at, source) VALUES ($1, 'open', $2, $3, $4, $5, $5, $6) RETURNING id",
        )
        .bind(h.user_token.clone())
        .bind(h.reason.clone())
        .bind(h.link_kind.clone())
        .bind(enc)
        .bind(h.at.clone())
        .bind(h.source.clone())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO hold_transitions (hold_id, at, from_status, to_status, source, detail) \
             VALUES ($1, $2, NULL, 'open', $3, $4)",
        )
        .bind(id)
        .bind(h.at.clone())
        .bind(h.source.clone())
        .bind(h.reason.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(HoldOpened::New(id))
    }

    /// Moves a hold to `to` (`submitted`, `released`, `declined`, `expired`), recording the
    /// transition; `kyc_status` is remembered either way. Returns whether the status changed.
    pub async fn transition_hold(
        &self,
        id: i64,
        to: &str,
        at: &str,
        source: &str,
        kyc_status: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current: Option<String> = sqlx::query_scalar("SELECT status FROM holds WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(current) = current else {
            return Ok(false);
        };
        if let Some(k) = kyc_status {
            sqlx::query("UPDATE holds SET last_kyc_status = $1 WHERE id = $2")
                .bind(k.to_string())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let changed = current != to;
        if changed {
            let closed = (!ACTIVE_STATUSES.contains(&to)).then(|| at.to_string());
            sqlx::query(
                "UPDATE holds SET status = $1, closed_at = $2, \
                 last_event_at = CASE WHEN last_event_at < $3 THEN $3 ELSE last_event_at END WHERE id = $4",
            )
            .bind(to.to_string())
            .bind(closed)
            .bind(at.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO hold_transitions (hold_id, at, from_status, to_status, source, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(at.to_string())
            .bind(current)
            .bind(to.to_string())
            .bind(source.to_string())
            .bind(kyc_status.map(str::to_string))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Every hold (or only the active ones), oldest first.
    pub async fn holds(&self, active_only: bool) -> Result<Vec<StoredHold>, StoreError> {
        let filter = if active_only {
            "WHERE closed_at IS NULL"
        } else {
            ""
        };
        let rows: Vec<HoldRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HOLD_COLS} FROM holds {filter} ORDER BY opened_at, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| self.hold_from_row(r)).collect()
    }

    /// A hold's transitions, in order.
    pub async fn hold_transitions(&self, hold_id: i64) -> Result<Vec<HoldTransition>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT hold_id, at, from_status, to_status, source, detail FROM hold_transitions \
             WHERE hold_id = $1 ORDER BY id",
        )
        .bind(hold_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

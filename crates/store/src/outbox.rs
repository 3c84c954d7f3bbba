//! The notifier's outbox: notices recorded once (by a dedup key), delivered per channel, marked
//! sent only after the channel accepted them.

use crate::{Store, StoreError};
use serde::Serialize;

/// One recorded notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StoredNotice {
    pub id: i64,
    pub dedup_key: String,
    pub kind: String,
    pub created_at: String,
    /// JSON text (no TIN, no upload link).
    pub payload: String,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Store {
    /// Records a notice unless one with the same key exists. Returns its id when it is new.
    pub async fn enqueue_notice(
        &self,
        dedup_key: &str,
        kind: &str,
        payload: &str,
    ) -> Result<Option<i64>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO notices (dedup_key, kind, created_at, payload) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        )
        .bind(dedup_key.to_string())
        .bind(kind.to_string())
        .bind(now())
        .bind(payload.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    /// [`Self::enqueue_notice`] for many notices `(dedup_key, kind, payload)` at once: one
    /// transaction, multi-row statements. Returns, in input order, each new notice's id (`None`
    /// where the key was recorded before, or repeats an earlier item of `items`).
    pub async fn enqueue_notices(
        &self,
        items: &[(String, String, String)],
    ) -> Result<Vec<Option<i64>>, StoreError> {
        const ROWS: usize = 500;
        let mut ids = std::collections::HashMap::with_capacity(items.len());
        let created = now();
        let mut tx = self.pool.begin().await?;
        for chunk in items.chunks(ROWS) {
            let sql = crate::snapshot::batch_sql(
                self.backend,
                "INSERT INTO notices (dedup_key, kind, created_at, payload)",
                4,
                chunk.len(),
                " ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key",
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
            for (key, kind, payload) in chunk {
                q = q
                    .bind(key.clone())
                    .bind(kind.clone())
                    .bind(created.clone())
                    .bind(payload.clone());
            }
            // Within one statement a repeated key would be a conflict for PostgreSQL's
            // DO NOTHING too; the first occurrence wins either way.
            for (id, key) in q.fetch_all(&mut *tx).await? {
                ids.insert(key, id);
            }
        }
        tx.commit().await?;
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        Ok(items
            .iter()
            .map(|(key, _, _)| {
                if seen.insert(key.as_str()) {
                    ids.get(key).copied()
                } else {
                    None
                }
            })
            .collect())
    }

    /// Whether a notice with this key was ever recorded.
    pub async fn notice_exists(&self, dedup_key: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notices WHERE dedup_key = $1")
            .bind(dedup_key.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Every recorded dedup key that starts with `prefix` (one query, for a run that checks many).
    pub async fn notice_keys_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        // A key range (index-friendly on both backends): [prefix, prefix with its last char + 1).
        let mut upper: Vec<char> = prefix.chars().collect();
        match upper.pop() {
            Some(last) => upper.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX)),
            None => upper.push(char::MAX),
        }
        let upper: String = upper.into_iter().collect();
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT dedup_key FROM notices WHERE dedup_key >= $1 AND dedup_key < $2",
        )
        .bind(prefix.to_string())
        .bind(upper)
        .fetch_all(&self.pool)
        .await?;
        Ok(keys.into_iter().collect())
    }

    /// Notices not yet delivered on `channel`, oldest first. A channel added later gets only the
    /// notices recorded after `since` (RFC 3339) when given, so it does not replay history.
    pub async fn pending_notices(
        &self,
        channel: &str,
        since: Option<&str>,
    ) -> Result<Vec<StoredNotice>, StoreError> {
        self.pending_notices_page(channel, since, 0, i64::MAX).await
    }

    /// [`Self::pending_notices`] a page at a time: at most `limit` notices with ids above
    /// `after_id`, in id order (a sender reads the next page after the last id it got).
    pub async fn pending_notices_page(
        &self,
        channel: &str,
        since: Option<&str>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredNotice>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT n.id, n.dedup_key, n.kind, n.created_at, n.payload FROM notices n \
             WHERE NOT EXISTS (SELECT 1 FROM notice_deliveries d WHERE d.notice_id = n.id \
             AND d.channel = $1 AND d.status = 'sent') AND n.created_at >= $2 AND n.id > $3 \
             ORDER BY n.id LIMIT $4",
        )
        .bind(channel.to_string())
        .bind(since.unwrap_or("").to_string())
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records the outcome of one delivery attempt (`error` None: sent).
    pub async fn record_delivery(
        &self,
        notice_id: i64,
        channel: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let status = if error.is_some() { "failed" } else { "sent" };
        sqlx::query(
            "INSERT INTO notice_deliveries (notice_id, channel, status, attempts, last_error, updated_at) \
             VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (notice_id, channel) DO UPDATE SET \
             status = excluded.status, attempts = notice_deliveries.attempts + 1, \
             last_error = excluded.last_error, updated_at = excluded.updated_at",
        )
        .bind(notice_id)
        .bind(channel.to_string())
        .bind(status.to_string())
        .bind(error.map(str::to_string))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`Self::record_delivery`] for many notices with one outcome: one transaction,
    /// multi-row statements.
    pub async fn record_deliveries(
        &self,
        notice_ids: &[i64],
        channel: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        const ROWS: usize = 500;
        let status = if error.is_some() { "failed" } else { "sent" };
        let at = now();
        let mut ids: Vec<i64> = notice_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut tx = self.pool.begin().await?;
        for chunk in ids.chunks(ROWS) {
            let sql = crate::snapshot::batch_sql(
                self.backend,
                "INSERT INTO notice_deliveries (notice_id, channel, status, attempts, last_error, updated_at)",
                6,
                chunk.len(),
                " ON CONFLICT (notice_id, channel) DO UPDATE SET \
                 status = excluded.status, attempts = notice_deliveries.attempts + 1, \
                 last_error = excluded.last_error, updated_at = excluded.updated_at",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q
                    .bind(*id)
                    .bind(channel.to_string())
                    .bind(status.to_string())
                    .bind(1i64)
                    .bind(error.map(str::to_string))
                    .bind(at.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `(status, attempts)` of a notice's delivery on a channel, if attempted.
    pub async fn delivery_status(
        &self,
        notice_id: i64,
        channel: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT status, attempts FROM notice_deliveries WHERE notice_id = $1 AND channel = $2",
        )
        .bind(notice_id)
        .bind(channel.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }
}

//! Sync runs (`sync_runs`, the audit trail) and the findings of a year's snapshot.

use crate::records::{Finding, SyncRun};
use crate::{Store, StoreError, now};
use sqlx::AssertSqlSafe;

/// A `findings` row: user_token, row_index, code, severity, message.
type FindingRow = (Option<String>, Option<i64>, String, String, String);

impl Store {
    /// Starts a sync run (its row is written at once, outside the snapshot transaction, so a
    /// failed run stays in the history).
    pub async fn begin_run(&self, tax_year: i32, source: &str) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sync_runs (tax_year, source, started_at, status) VALUES ($1, $2, $3, 'running') RETURNING id",
        )
        .bind(i64::from(tax_year))
        .bind(source.to_string())
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Marks a run failed, with a message (which must not hold secrets).
    pub async fn fail_run(&self, run_id: i64, error: &str, tries: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sync_runs SET status = 'failed', finished_at = $1, error = $2, tries = $3 WHERE id = $4")
            .bind(now())
            .bind(error.chars().take(2000).collect::<String>())
            .bind(tries)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks every run still `running` as `interrupted` (its process died: killed, crashed, the
    /// machine went down). Call only while holding the sync lease, so no live run is touched.
    /// Returns how many runs were marked.
    pub async fn mark_interrupted_runs(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = $1, \
             error = 'the sync stopped before it finished (its process ended); the previous snapshot was kept' \
             WHERE status = 'running'",
        )
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Sync runs, newest first (all years when `tax_year` is `None`).
    pub async fn runs(&self, tax_year: Option<i32>) -> Result<Vec<SyncRun>, StoreError> {
        let base = "SELECT id, tax_year, source, started_at, finished_at, status, rows_received, rows_stored, \
                    rows_rejected, total, reportable_count, foreign_count, body_bytes, body_sha256, tries, error FROM sync_runs";
        let rows = match tax_year {
            Some(y) => {
                sqlx::query_as(AssertSqlSafe(format!(
                    "{base} WHERE tax_year = $1 ORDER BY id DESC"
                )))
                .bind(i64::from(y))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(AssertSqlSafe(format!("{base} ORDER BY id DESC")))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows)
    }

    /// The latest completed run for the year, if any.
    pub async fn latest_run(&self, tax_year: i32) -> Result<Option<SyncRun>, StoreError> {
        Ok(self
            .runs(Some(tax_year))
            .await?
            .into_iter()
            .find(|r| r.status == "completed"))
    }

    /// Findings of the year's current snapshot.
    pub async fn findings(&self, tax_year: i32) -> Result<Vec<Finding>, StoreError> {
        use futures_util::TryStreamExt;
        self.findings_stream(tax_year).try_collect().await
    }

    /// [`Self::findings`] one at a time, in the order the sync recorded them (memory flat in
    /// their number).
    pub fn findings_stream(
        &self,
        tax_year: i32,
    ) -> futures_util::stream::BoxStream<'_, Result<Finding, StoreError>> {
        use futures_util::{StreamExt, TryStreamExt};
        sqlx::query_as::<_, FindingRow>(
            "SELECT user_token, row_index, code, severity, message FROM findings WHERE tax_year = $1 ORDER BY id",
        )
        .bind(i64::from(tax_year))
        .fetch(&self.pool)
        .map_err(StoreError::from)
        .map_ok(|(user_token, row_index, code, severity, message)| Finding {
            user_token,
            row_index,
            code,
            severity,
            message,
        })
        .boxed()
    }
}

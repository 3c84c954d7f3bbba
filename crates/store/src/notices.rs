//! The per-payee "2nd TIN notice" flag (IRIS column `2nd TIN Notice`, the 1099 "2nd TIN not."
//! box): set when an IRS TIN Matching answer is a no-match, or by the user; cleared by the user.

use crate::{Store, StoreError};

/// One flagged payee.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct SecondTinNotice {
    pub user_token: String,
    /// `tin-match` (an IRS no-match answer) or `user`.
    pub source: String,
    pub set_at: String,
}

impl Store {
    /// Flags `user_token` (idempotent: an existing flag keeps its first source and time).
    pub async fn set_second_tin_notice(
        &self,
        user_token: &str,
        source: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO second_tin_notices (user_token, source, set_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_token) DO NOTHING",
        )
        .bind(user_token.to_string())
        .bind(source.to_string())
        .bind(crate::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes the flag; `true` when there was one.
    pub async fn clear_second_tin_notice(&self, user_token: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM second_tin_notices WHERE user_token = $1")
            .bind(user_token.to_string())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Every flagged payee, in token order.
    pub async fn second_tin_notices(&self) -> Result<Vec<SecondTinNotice>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT user_token, source, set_at FROM second_tin_notices ORDER BY user_token",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether the store knows a payee with this token.
    pub async fn payee_exists(&self, user_token: &str) -> Result<bool, StoreError> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT user_token FROM payees WHERE user_token = $1")
                .bind(user_token.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use crate::{KeySource, Store};

    async fn suite(store: &Store) {
        assert!(store.second_tin_notices().await.unwrap().is_empty());
        store
            .set_second_tin_notice("usr_a", "tin-match")
            .await
            .unwrap();
        store.set_second_tin_notice("usr_a", "user").await.unwrap();
        store.set_second_tin_notice("usr_b", "user").await.unwrap();
        let all = store.second_tin_notices().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].user_token, "usr_a");
        assert_eq!(all[0].source, "tin-match", "the first setting is kept");
        assert!(store.clear_second_tin_notice("usr_a").await.unwrap());
        assert!(!store.clear_second_tin_notice("usr_a").await.unwrap());
        assert_eq!(store.second_tin_notices().await.unwrap().len(), 1);
        assert!(!store.payee_exists("usr_nobody").await.unwrap());
    }

    #[tokio::test]
    async fn set_clear_list_on_sqlite_and_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeySource::Hex("22".repeat(32));
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url, &key).await.unwrap();
        suite(&store).await;
        store.close().await;
        let Ok(pg) = std::env::var("MASSPAY_TAX_TEST_POSTGRES") else {
            return;
        };
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&pg).await.unwrap();
        let db = format!("mt_notices_{}", std::process::id());
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
            .execute(&admin)
            .await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .execute(&admin)
            .await
            .unwrap();
        let (base, query) = match pg.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (pg.as_str(), String::new()),
        };
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        let store = Store::open(&format!("{base}/{db}{query}"), &key)
            .await
            .unwrap();
        suite(&store).await;
        store.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {db} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .unwrap();
    }
}

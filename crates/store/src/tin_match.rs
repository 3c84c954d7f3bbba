//! What IRS TIN Matching (Publication 2108A) needs from the store beyond the W-9 tables:
//! the payees an answer file can be linked back to.

use crate::{Store, StoreError};

impl Store {
    /// Every payee the store has seen (any year), by user token, in token order.
    pub async fn payee_tokens(&self) -> Result<Vec<String>, StoreError> {
        let mut tokens: Vec<String> = sqlx::query_scalar("SELECT user_token FROM payees")
            .fetch_all(&self.pool)
            .await?;
        tokens.sort_unstable();
        Ok(tokens)
    }
}

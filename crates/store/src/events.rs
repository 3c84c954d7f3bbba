//! Received MassPay webhook events, stored durably before the receiver answers 2xx, once per
//! distinct body (`event_key`: a keyed hash of the raw body), so a redelivery or a replay adds
//! nothing. The payload can carry a full TIN (tax-interview events): encrypted at rest.

use crate::{Store, StoreError};

/// One stored event, the payload decrypted (**may hold a TIN**: never log it).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub event_key: String,
    pub event_type: String,
    pub signed_at: i64,
    pub received_at: String,
    pub payload: String,
}

impl std::fmt::Debug for StoredEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEvent")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The event key of a raw body (keyed hash: a body with a TIN cannot be guessed from it).
    pub fn webhook_event_key(&self, body: &[u8]) -> String {
        self.vault.tin_hash(&String::from_utf8_lossy(body))
    }

    /// Stores an event unless one with the same key exists; returns its id when new.
    pub async fn record_webhook_event(
        &self,
        event_key: &str,
        event_type: &str,
        signed_at: i64,
        payload: &str,
    ) -> Result<Option<i64>, StoreError> {
        let enc = self
            .vault
            .encrypt_field(event_key, "webhook_payload", payload)?;
        Ok(sqlx::query_scalar(
            "INSERT INTO webhook_events (event_key, event_type, signed_at, received_at, payload_enc) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_key) DO NOTHING RETURNING id",
        )
        .bind(event_key.to_string())
        .bind(event_type.to_string())
        .bind(signed_at)
        .bind(crate::now())
        .bind(enc)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every stored event, oldest first.
    pub async fn webhook_events(&self) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<(i64, String, String, i64, String, String)> = sqlx::query_as(
            "SELECT id, event_key, event_type, signed_at, received_at, payload_enc \
             FROM webhook_events ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let payload = self.vault.decrypt_field(&r.1, "webhook_payload", &r.5)?;
                Ok(StoredEvent {
                    id: r.0,
                    event_key: r.1,
                    event_type: r.2,
                    signed_at: r.3,
                    received_at: r.4,
                    payload,
                })
            })
            .collect()
    }

    /// How many events are stored.
    pub async fn webhook_event_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events")
            .fetch_one(&self.pool)
            .await?)
    }
}

impl Store {
    /// Removes an event whose effects could not be applied (so a redelivery applies it again).
    pub async fn delete_webhook_event(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webhook_events WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

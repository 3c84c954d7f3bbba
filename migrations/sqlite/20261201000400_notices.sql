-- The notifier's outbox: every notice (threshold alert, KYC hold notice, payout flip) is recorded
-- once by its dedup_key, then delivered per channel; a delivery is marked sent only after the
-- channel accepted it, so a failed one is retried on the next run. Payloads never hold a TIN or
-- an upload link. SQLite flavour.
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key  TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    payload    TEXT NOT NULL
);

CREATE TABLE notice_deliveries (
    notice_id  BIGINT NOT NULL,
    channel    TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (notice_id, channel)
);

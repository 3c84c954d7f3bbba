-- KYC holds (one row per hold; a user has at most one hold that is not closed), every
-- transition of a hold with its time and source, received MassPay webhook events (stored
-- before the 2xx answer, once per distinct body), and the status history of payouts.
-- Upload links and webhook payloads are encrypted with the store's vault. sqlite flavour.
CREATE TABLE holds (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_token      TEXT NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT,
    link_kind       TEXT,
    upload_link_enc TEXT,
    opened_at       TEXT NOT NULL,
    last_kyc_status TEXT,
    last_event_at   TEXT NOT NULL,
    source          TEXT NOT NULL,
    closed_at       TEXT
);
CREATE INDEX holds_user ON holds (user_token);

CREATE TABLE hold_transitions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hold_id     BIGINT NOT NULL,
    at          TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    source      TEXT NOT NULL,
    detail      TEXT
);

CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key   TEXT NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    signed_at   BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    payload_enc TEXT NOT NULL
);

CREATE TABLE payout_statuses (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    payout_token TEXT NOT NULL,
    user_token   TEXT,
    status       TEXT NOT NULL,
    amount       TEXT,
    at           TEXT NOT NULL,
    source       TEXT NOT NULL
);
CREATE INDEX payout_statuses_token ON payout_statuses (payout_token);

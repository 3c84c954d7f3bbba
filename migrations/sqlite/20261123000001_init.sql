-- masspay-tax store, SQLite flavour. Money is TEXT (exact Decimal) plus BIGINT cents; times are
-- RFC 3339 TEXT in UTC; tax IDs are only ever stored encrypted (tin_enc) with a keyed hash.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tax_year         BIGINT NOT NULL,
    source           TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    status           TEXT NOT NULL,
    rows_received    BIGINT NOT NULL DEFAULT 0,
    rows_stored      BIGINT NOT NULL DEFAULT 0,
    rows_rejected    BIGINT NOT NULL DEFAULT 0,
    total            TEXT NOT NULL DEFAULT '0.00',
    reportable_count BIGINT NOT NULL DEFAULT 0,
    foreign_count    BIGINT NOT NULL DEFAULT 0,
    body_bytes       BIGINT NOT NULL DEFAULT 0,
    body_sha256      TEXT,
    tries            BIGINT NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX sync_runs_year ON sync_runs (tax_year, id);

CREATE TABLE payees (
    user_token           TEXT PRIMARY KEY,
    first_name           TEXT NOT NULL DEFAULT '',
    middle_name          TEXT NOT NULL DEFAULT '',
    last_name            TEXT NOT NULL DEFAULT '',
    business_name        TEXT NOT NULL DEFAULT '',
    email                TEXT NOT NULL DEFAULT '',
    mobile_number        TEXT NOT NULL DEFAULT '',
    address1             TEXT NOT NULL DEFAULT '',
    address2             TEXT NOT NULL DEFAULT '',
    city                 TEXT NOT NULL DEFAULT '',
    state_province       TEXT NOT NULL DEFAULT '',
    postal_code          TEXT NOT NULL DEFAULT '',
    postal_code_repaired BIGINT NOT NULL DEFAULT 0,
    country              TEXT NOT NULL DEFAULT '',
    date_of_birth        TEXT NOT NULL DEFAULT '',
    tin_enc              TEXT,
    tin_hash             TEXT,
    tin_last4            TEXT,
    updated_run_id       BIGINT NOT NULL
);
CREATE INDEX payees_tin_hash ON payees (tin_hash);
CREATE INDEX payees_email ON payees (email);

CREATE TABLE annual_balances (
    tax_year      BIGINT NOT NULL,
    user_token    TEXT NOT NULL,
    balance       TEXT NOT NULL,
    amount        TEXT NOT NULL,
    amount_cents  BIGINT NOT NULL,
    form          TEXT NOT NULL,
    business      BIGINT NOT NULL DEFAULT 0,
    residency     TEXT NOT NULL,
    sync_run_id   BIGINT NOT NULL,
    PRIMARY KEY (tax_year, user_token)
);
CREATE INDEX annual_balances_form ON annual_balances (tax_year, form);

CREATE TABLE findings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_run_id BIGINT NOT NULL,
    tax_year    BIGINT NOT NULL,
    user_token  TEXT,
    row_index   BIGINT,
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX findings_year ON findings (tax_year, code);

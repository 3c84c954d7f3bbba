-- W-9 / W-8 data imported from spreadsheets (one current form per payee) and the latest IRS TIN
-- Matching answer per payee. SQLite flavour. Secrets (TIN, foreign TIN, date of birth) are only
-- stored encrypted (*_enc, the store's Vault); tin_hash is the keyed hash of the TIN's digits
-- (comparable with payees.tin_hash), tin_last4 the last four digits. Times are RFC 3339 TEXT.
CREATE TABLE tax_forms (
    user_token           TEXT PRIMARY KEY,
    form_type            TEXT NOT NULL,
    legal_name           TEXT NOT NULL,
    business_name        TEXT,
    entity_type          TEXT,
    tin_enc              TEXT,
    tin_hash             TEXT,
    tin_last4            TEXT,
    tin_type             TEXT,
    declared_tin_type    TEXT,
    exempt_payee_code    TEXT,
    address1             TEXT,
    address2             TEXT,
    city                 TEXT,
    state                TEXT,
    zip                  TEXT,
    country              TEXT,
    signature_date       TEXT,
    country_of_residence TEXT,
    foreign_tin_enc      TEXT,
    date_of_birth_enc    TEXT,
    treaty_claim         TEXT,
    internal_user_id     TEXT,
    email                TEXT,
    source_file          TEXT NOT NULL,
    source_sheet         TEXT NOT NULL,
    source_row           BIGINT NOT NULL,
    imported_at          TEXT NOT NULL
);
CREATE INDEX tax_forms_tin_hash ON tax_forms (tin_hash);

CREATE TABLE tin_match_results (
    user_token    TEXT PRIMARY KEY,
    tin_hash      TEXT NOT NULL,
    tin_type_code BIGINT NOT NULL,
    name          TEXT NOT NULL,
    result_code   BIGINT NOT NULL,
    result_file   TEXT NOT NULL,
    imported_at   TEXT NOT NULL
);

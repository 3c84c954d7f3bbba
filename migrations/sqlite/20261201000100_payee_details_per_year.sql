-- A year is reproducible (SQLite flavour): a payee's details (names, address, TIN, date of birth)
-- move from the one-row-per-payee `payees` table into the year's row of `annual_balances`,
-- written by that year's sync only. Existing details become the details of every year the payee
-- has a balance in. Dates of birth are encrypted at rest from now on (date_of_birth_enc, the
-- store's Vault, bound to the user token and the field); the clear values of an existing store
-- are carried as 'clear:VALUE' and encrypted by the store on its next open (meta
-- 'dob_clear_pending'), which then removes every clear copy.
ALTER TABLE annual_balances ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN middle_name TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN business_name TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN mobile_number TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN address1 TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN address2 TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN state_province TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN postal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN postal_code_repaired BIGINT NOT NULL DEFAULT 0;
ALTER TABLE annual_balances ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE annual_balances ADD COLUMN date_of_birth_enc TEXT;
ALTER TABLE annual_balances ADD COLUMN tin_enc TEXT;
ALTER TABLE annual_balances ADD COLUMN tin_hash TEXT;
ALTER TABLE annual_balances ADD COLUMN tin_last4 TEXT;

UPDATE annual_balances SET
    first_name = p.first_name,
    middle_name = p.middle_name,
    last_name = p.last_name,
    business_name = p.business_name,
    email = p.email,
    mobile_number = p.mobile_number,
    address1 = p.address1,
    address2 = p.address2,
    city = p.city,
    state_province = p.state_province,
    postal_code = p.postal_code,
    postal_code_repaired = p.postal_code_repaired,
    country = p.country,
    date_of_birth_enc = CASE WHEN p.date_of_birth = '' THEN NULL ELSE 'clear:' || p.date_of_birth END,
    tin_enc = p.tin_enc,
    tin_hash = p.tin_hash,
    tin_last4 = p.tin_last4
FROM payees p
WHERE p.user_token = annual_balances.user_token;

INSERT INTO meta (key, value)
SELECT 'dob_clear_pending', '1'
WHERE EXISTS (SELECT 1 FROM annual_balances WHERE date_of_birth_enc LIKE 'clear:%')
ON CONFLICT (key) DO NOTHING;

-- payees: one row per payee ever seen (token, latest email, latest run), for linking W-9 rows and
-- IRS answers. Rebuilt without the detail columns (no clear date of birth stays behind).
CREATE TABLE payees_next (
    user_token     TEXT PRIMARY KEY,
    email          TEXT NOT NULL DEFAULT '',
    updated_run_id BIGINT NOT NULL
);
INSERT INTO payees_next (user_token, email, updated_run_id)
SELECT user_token, email, updated_run_id FROM payees;
DROP TABLE payees;
ALTER TABLE payees_next RENAME TO payees;
CREATE INDEX payees_email ON payees (email);

-- Lease locks (see the store's `lease` module): one holder per name until expires_at (Unix ms).
CREATE TABLE locks (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         BIGINT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

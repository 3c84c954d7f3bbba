-- Per-payee "2nd TIN notice" flag for e-filed 1099s (IRIS column `2nd TIN Notice`): set when an
-- IRS TIN Matching answer says the name/TIN pair does not match (result 2 or 3), or by the user
-- (`masspay-tax efile second-notice`); cleared by the user. Times are RFC 3339 TEXT.
CREATE TABLE second_tin_notices (
    user_token TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    set_at     TEXT NOT NULL
);

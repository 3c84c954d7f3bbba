-- Alerts: a payee's year to date confirmed from MassPay's transaction history (issue 12).
-- The next check fetches only from resume_date on: completed payouts before it are in
-- amount_before.
CREATE TABLE ytd_confirmations (
    tax_year       BIGINT NOT NULL,
    user_token     TEXT NOT NULL,
    resume_date    TEXT NOT NULL,
    amount_before  TEXT NOT NULL,
    history_amount TEXT NOT NULL,
    transactions   BIGINT NOT NULL,
    checked_at     TEXT NOT NULL,
    PRIMARY KEY (tax_year, user_token)
);

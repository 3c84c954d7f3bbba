-- Per-payee, per-tax-year decisions a user recorded (`masspay-tax payees override`): the form
-- decision that settles a US/foreign conflict or an unknown country (form_override: us_person,
-- foreign_person, nec_1099, not_reportable), where the payee's services were performed
-- (outside_us / in_us), the US-source share of the pay (us_source_percent, a decimal 0-100 as
-- text) and the 1042-S income codes (income_codes: comma-separated `17` or `12:500.00`, an
-- amount for that code). NULL means "no decision: the rules and settings apply". The W-9/W-8 import
-- gains the same two facts per form (tax_forms.services_performed, us_source_percent).
-- SQLite flavour.
CREATE TABLE payee_overrides (
    user_token         TEXT NOT NULL,
    tax_year           BIGINT NOT NULL,
    form_override      TEXT,
    services_performed TEXT,
    us_source_percent  TEXT,
    income_codes       TEXT,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (user_token, tax_year)
);

ALTER TABLE tax_forms ADD COLUMN services_performed TEXT;
ALTER TABLE tax_forms ADD COLUMN us_source_percent TEXT;

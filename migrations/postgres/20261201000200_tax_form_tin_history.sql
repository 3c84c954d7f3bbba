-- Every change to the TIN of a stored W-9 / W-8 (tax_forms.tin): when, from which file, sheet
-- and row, and the old and new last four digits (never the TIN itself; the hashes are the
-- store's keyed hashes, comparable with tax_forms.tin_hash). A first TIN has no old value, a
-- cleared one (--clear tin) no new value. Written in the import's transaction.
CREATE TABLE tax_form_tin_history (
    user_token   TEXT NOT NULL,
    changed_at   TEXT NOT NULL,
    source_file  TEXT NOT NULL,
    source_sheet TEXT NOT NULL,
    source_row   BIGINT NOT NULL,
    old_last4    TEXT,
    new_last4    TEXT,
    old_tin_hash TEXT,
    new_tin_hash TEXT
);
CREATE INDEX tax_form_tin_history_user ON tax_form_tin_history (user_token, changed_at);

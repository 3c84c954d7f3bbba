-- `payees_email` served no query: a row linked by email is matched case-insensitively
-- (`Store::payees_by_email`, one walk over the table for a whole sheet), which a plain index
-- on `email` cannot answer. Every sync dropped and rebuilt it (about a second at 1,000,000
-- payees on either store).
DROP INDEX IF EXISTS payees_email;

-- PostgreSQL: `annual_balances` partitioned by tax year (LIST), one partition per year and a
-- default partition for years no bulk sync has written. A bulk sync of a year (the PostgreSQL
-- writer, `crates/store/src/pg_copy.rs`) copies the year into a new table without indexes,
-- builds its keys by sorting, and swaps it in for the year's partition at commit: inserting
-- 1,000,000 random-keyed rows into the indexed table was most of a sync, and a re-sync first
-- deleted the year. The rows, columns, keys and indexes are the same; readers see the parent.
--
-- An existing store's rows move into one partition per year they hold.

ALTER TABLE annual_balances RENAME TO annual_balances_unpartitioned;
ALTER INDEX annual_balances_pkey RENAME TO annual_balances_unpartitioned_pkey;
ALTER INDEX annual_balances_form RENAME TO annual_balances_unpartitioned_form;

CREATE TABLE annual_balances (
    LIKE annual_balances_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
) PARTITION BY LIST (tax_year);
ALTER TABLE annual_balances ADD CONSTRAINT annual_balances_pkey PRIMARY KEY (tax_year, user_token);
CREATE INDEX annual_balances_form ON annual_balances (tax_year, form);
CREATE TABLE annual_balances_other PARTITION OF annual_balances DEFAULT;

DO $$
DECLARE
    y BIGINT;
BEGIN
    FOR y IN SELECT DISTINCT tax_year FROM annual_balances_unpartitioned ORDER BY 1 LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF annual_balances FOR VALUES IN (%s)',
            'annual_balances_' || y, y
        );
    END LOOP;
END
$$;

INSERT INTO annual_balances SELECT * FROM annual_balances_unpartitioned;
DROP TABLE annual_balances_unpartitioned;

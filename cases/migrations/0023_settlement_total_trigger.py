"""A statement's total always equals the sum of its items, and settled is final (PostgreSQL).

Every statement touched (directly, or through an item bound to it, moved off it or deleted) must
have ``total`` and ``item_count`` equal to its items' sum and count, and hold only items of its
pair of funds and month, or the change is refused (SQLSTATE 23514, an IntegrityError). A statement
is checked at commit (a deferred constraint trigger: the service writes it before binding its
items) and changes only to be settled; items are checked at the end of each SQL statement, once
per statement they touched (transition tables); a settled statement or item never changes.
Other databases (SQLite, the embedded default) have no such triggers: there the service and
``cases.services.settlement.statement_problems`` hold the line.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CHECK = """
CREATE OR REPLACE FUNCTION settlement_statement_check(sid bigint) RETURNS void AS $$
DECLARE
    st record; got numeric; got_count integer; strays integer;
BEGIN
    IF sid IS NULL THEN RETURN; END IF;
    SELECT * INTO st FROM cases_settlementstatement WHERE id = sid;
    IF NOT FOUND THEN RETURN; END IF;
    SELECT COALESCE(SUM(amount), 0), COUNT(*),
           COUNT(*) FILTER (WHERE payer_id <> st.payer_id OR payee_id <> st.payee_id
                            OR day < st.period_start OR day > st.period_end)
        INTO got, got_count, strays
        FROM cases_settlementitem WHERE statement_id = sid;
    IF got <> st.total OR got_count <> st.item_count THEN
        RAISE EXCEPTION 'settlement statement % states % yuan in % items; its items sum to % in %',
            sid, st.total, st.item_count, got, got_count
            USING ERRCODE = '23514', CONSTRAINT = 'settlement_total_is_items';
    END IF;
    IF strays > 0 THEN
        RAISE EXCEPTION 'settlement statement % holds % item(s) of another pair of funds or month',
            sid, strays USING ERRCODE = '23514', CONSTRAINT = 'settlement_items_match_statement';
    END IF;
END $$ LANGUAGE plpgsql;

-- A statement: checked once per row at commit (deferred: it is written before its items are
-- bound to it); once drawn up it changes only to be settled, once settled never.
CREATE OR REPLACE FUNCTION settlement_statement_row() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'settlement statement % is never deleted', OLD.id
            USING ERRCODE = '23514', CONSTRAINT = 'settlement_statement_final';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.settled_at IS NOT NULL THEN
            RAISE EXCEPTION 'settlement statement % is settled and never changes', OLD.id
                USING ERRCODE = '23514', CONSTRAINT = 'settlement_settled_is_final';
        END IF;
        IF (NEW.number, NEW.payer_id, NEW.payee_id, NEW.period_start, NEW.period_end, NEW.total,
            NEW.item_count, NEW.created_at)
           IS DISTINCT FROM (OLD.number, OLD.payer_id, OLD.payee_id, OLD.period_start,
            OLD.period_end, OLD.total, OLD.item_count, OLD.created_at) THEN
            RAISE EXCEPTION 'settlement statement % changes only to be settled', OLD.id
                USING ERRCODE = '23514', CONSTRAINT = 'settlement_statement_final';
        END IF;
    END IF;
    PERFORM settlement_statement_check(NEW.id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- Items: checked once per SQL statement over the statements it touched (transition tables), so
-- binding a month's items costs one check per statement, not one per item.
CREATE OR REPLACE FUNCTION settlement_items_inserted() RETURNS trigger AS $$
DECLARE sid bigint;
BEGIN
    FOR sid IN SELECT DISTINCT statement_id FROM new_rows WHERE statement_id IS NOT NULL LOOP
        PERFORM settlement_statement_check(sid);
    END LOOP;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION settlement_items_updated() RETURNS trigger AS $$
DECLARE sid bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows WHERE settled_at IS NOT NULL) THEN
        RAISE EXCEPTION 'a settlement item is settled and never changes'
            USING ERRCODE = '23514', CONSTRAINT = 'settlement_settled_is_final';
    END IF;
    FOR sid IN
        SELECT statement_id FROM old_rows WHERE statement_id IS NOT NULL
        UNION SELECT statement_id FROM new_rows WHERE statement_id IS NOT NULL
    LOOP
        PERFORM settlement_statement_check(sid);
    END LOOP;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION settlement_items_deleted() RETURNS trigger AS $$
DECLARE sid bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows WHERE settled_at IS NOT NULL) THEN
        RAISE EXCEPTION 'a settlement item is settled and never changes'
            USING ERRCODE = '23514', CONSTRAINT = 'settlement_settled_is_final';
    END IF;
    FOR sid IN SELECT DISTINCT statement_id FROM old_rows WHERE statement_id IS NOT NULL LOOP
        PERFORM settlement_statement_check(sid);
    END LOOP;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER settlement_statement_final
    AFTER INSERT OR UPDATE OR DELETE ON cases_settlementstatement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION settlement_statement_row();
CREATE TRIGGER settlement_items_inserted AFTER INSERT ON cases_settlementitem
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_items_inserted();
CREATE TRIGGER settlement_items_updated AFTER UPDATE ON cases_settlementitem
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_items_updated();
CREATE TRIGGER settlement_items_deleted AFTER DELETE ON cases_settlementitem
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_items_deleted();
"""

DROP = """
DROP TRIGGER IF EXISTS settlement_items_deleted ON cases_settlementitem;
DROP TRIGGER IF EXISTS settlement_items_updated ON cases_settlementitem;
DROP TRIGGER IF EXISTS settlement_items_inserted ON cases_settlementitem;
DROP TRIGGER IF EXISTS settlement_statement_final ON cases_settlementstatement;
DROP FUNCTION IF EXISTS settlement_items_deleted();
DROP FUNCTION IF EXISTS settlement_items_updated();
DROP FUNCTION IF EXISTS settlement_items_inserted();
DROP FUNCTION IF EXISTS settlement_statement_row();
DROP FUNCTION IF EXISTS settlement_statement_check(bigint);
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHECK, params=None)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0022_modes_merge_settlement")]

    operations = [migrations.RunPython(forwards, backwards)]

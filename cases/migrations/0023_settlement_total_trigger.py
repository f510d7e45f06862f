"""A statement's total always equals the sum of its items, and settled is final (PostgreSQL).

A deferred constraint trigger on both tables: at commit, every statement touched (directly, or
through an item bound to it, moved off it or deleted) must have ``total`` and ``item_count`` equal
to its items' sum and count, or the whole transaction is refused (SQLSTATE 23514, an
IntegrityError); so is any change to a statement or item already settled. Deferred, so the service may write the statement and bind its items in either
order within one transaction. Other databases (SQLite, the embedded default) have no such
triggers: there the service and ``cases.services.settlement.statement_problems`` hold the line.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CHECK = """
CREATE OR REPLACE FUNCTION settlement_statement_check(sid bigint) RETURNS void AS $$
DECLARE
    want numeric; want_count integer; got numeric; got_count integer;
BEGIN
    IF sid IS NULL THEN RETURN; END IF;
    SELECT total, item_count INTO want, want_count FROM cases_settlementstatement WHERE id = sid;
    IF NOT FOUND THEN RETURN; END IF;
    SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO got, got_count
        FROM cases_settlementitem WHERE statement_id = sid;
    IF got <> want OR got_count <> want_count THEN
        RAISE EXCEPTION 'settlement statement % states % yuan in % items; its items sum to % in %',
            sid, want, want_count, got, got_count
            USING ERRCODE = '23514', CONSTRAINT = 'settlement_total_is_items';
    END IF;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION settlement_statement_trigger() RETURNS trigger AS $$
BEGIN
    -- Settled is final: a settled statement or item is never changed nor deleted.
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.settled_at IS NOT NULL THEN
        RAISE EXCEPTION 'settlement % row % is settled and never changes', TG_TABLE_NAME, OLD.id
            USING ERRCODE = '23514', CONSTRAINT = 'settlement_settled_is_final';
    END IF;
    IF TG_TABLE_NAME = 'cases_settlementstatement' THEN
        PERFORM settlement_statement_check(NEW.id);
    ELSE
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM settlement_statement_check(OLD.statement_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM settlement_statement_check(NEW.statement_id);
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER settlement_statement_total
    AFTER INSERT OR UPDATE OR DELETE ON cases_settlementstatement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION settlement_statement_trigger();
CREATE CONSTRAINT TRIGGER settlement_item_total
    AFTER INSERT OR UPDATE OR DELETE ON cases_settlementitem
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION settlement_statement_trigger();
"""

DROP = """
DROP TRIGGER IF EXISTS settlement_item_total ON cases_settlementitem;
DROP TRIGGER IF EXISTS settlement_statement_total ON cases_settlementstatement;
DROP FUNCTION IF EXISTS settlement_statement_trigger();
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

"""Counters kept per key: one statement adds to a roll-up row, creating it when it is missing.

Roll-ups (``workflow.models.StageTally``, ``cases.models.RepeatRequestTally``) are written in the
transaction of the change they count, so they are exactly as true as the rows they summarise. Many
transitions add to the same (day, stage, agency) row at once: a read-then-write would lose
increments, so the add is a single ``INSERT ... ON CONFLICT ... DO UPDATE SET n = n + excluded.n``
(PostgreSQL, and SQLite since 3.24), atomic under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import F


def rollup_add(
    model: type[models.Model], *, keys: Mapping[str, Any], add: Mapping[str, int]
) -> None:
    """Add ``add`` (field -> amount) to the row of ``model`` identified by ``keys`` (field ->
    value; the fields of a unique constraint), creating the row with ``add`` when there is none."""
    db = router.db_for_write(model)
    connection = connections[db]
    if connection.vendor not in ("postgresql", "sqlite"):
        _rollup_add_portable(model, db, keys, add)
        return
    meta = model._meta
    qn = connection.ops.quote_name
    names: list[str] = []
    params: list[Any] = []
    for name, value in keys.items():
        field = meta.get_field(name)
        names.append(qn(field.column))
        # The backend's form of the value (a date as SQLite stores it, a model as its key), as
        # the ORM would send it.
        params.append(field.get_db_prep_save(getattr(value, "pk", value), connection))
    conflict = ", ".join(names)
    sets = []
    for name, amount in add.items():
        column = qn(meta.get_field(name).column)
        names.append(column)
        params.append(int(amount))
        sets.append(f"{column} = {qn(meta.db_table)}.{column} + excluded.{column}")
    placeholders = ", ".join(["%s"] * len(names))
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(names)}) VALUES ({placeholders}) "  # noqa: S608 - names from the model
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(sets)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rollup_add_portable(
    model: type[models.Model], db: str, keys: Mapping[str, Any], add: Mapping[str, int]
) -> None:
    # Other backends: update, else insert; a concurrent insert of the same key makes ours fail on
    # the unique constraint, and the update then finds the row.
    manager = model._default_manager.using(db)
    increments = {name: F(name) + amount for name, amount in add.items()}
    if manager.filter(**keys).update(**increments):
        return
    try:
        with transaction.atomic(using=db):
            manager.create(**keys, **add)
    except IntegrityError:
        manager.filter(**keys).update(**increments)

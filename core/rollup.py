"""Counters kept per key: one statement adds to a roll-up row, creating it when it is missing.

Roll-ups (``workflow.models.StageTally``, ``cases.models.RepeatRequestTally``) are written in the
transaction of the change they count, so they are exactly as true as the rows they summarise. Many
transitions add to the same (day, stage, agency) row at once: a read-then-write would lose
increments, so the add is a single ``INSERT ... ON CONFLICT ... DO UPDATE SET n = n + excluded.n``
(PostgreSQL, and SQLite since 3.24), atomic under concurrent writers.

The add takes the row's lock until the transaction ends, so every other transaction adding to the
same row waits for it: a transition that added early and then did ten more statements held every
other transition of its agency for all of them (issue 14: at 1,000,000 cases, most of the API's
p99 of a second). ``rollups_at_end`` collects the adds made inside a block and writes them at its
end, just before the commit: merged per row, in one fixed order (so two transactions adding to
the same rows can never deadlock), each row locked for one statement and the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import F

_Key = tuple[type[models.Model], tuple[tuple[str, Any], ...]]


@dataclass
class _Held:
    """The adds held by one ``rollups_at_end`` block, summed per (model, key)."""

    alias: str
    savepoints: tuple[str, ...]
    adds: dict[_Key, dict[str, int]] = field(default_factory=dict)

    def take(
        self, model: type[models.Model], keys: Mapping[str, Any], add: Mapping[str, int]
    ) -> bool:
        """Hold the add if it is made at the block's own level of the same connection's
        transaction (a nested savepoint may roll back on its own: an add there is written at once,
        so its rollback undoes it)."""
        connection = connections[self.alias]
        if router.db_for_write(model) != self.alias or (
            tuple(connection.savepoint_ids) != self.savepoints
        ):
            return False
        key = (model, tuple(sorted((name, getattr(v, "pk", v)) for name, v in keys.items())))
        held = self.adds.setdefault(key, {})
        for name, amount in add.items():
            held[name] = held.get(name, 0) + int(amount)
        return True

    def write(self) -> None:
        # One order for every transaction: table, then the key's values.
        for model, key in sorted(self.adds, key=lambda k: (k[0]._meta.db_table, repr(k[1]))):
            _rollup_write(model, dict(key), self.adds[(model, key)])


_held: ContextVar[_Held | None] = ContextVar("rollups_held", default=None)


@contextmanager
def rollups_at_end(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Inside a transaction (``with transaction.atomic(), rollups_at_end():``): the ``rollup_add``
    calls of the block are written when it ends without an error, still inside the transaction;
    when it raises, they are dropped with the rest of its work."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("rollups_at_end needs a transaction")
    held = _Held(alias=using, savepoints=tuple(connection.savepoint_ids))
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    held.write()


def rollup_add(
    model: type[models.Model], *, keys: Mapping[str, Any], add: Mapping[str, int]
) -> None:
    """Add ``add`` (field -> amount) to the row of ``model`` identified by ``keys`` (field ->
    value; the fields of a unique constraint), creating the row with ``add`` when there is none.
    Inside ``rollups_at_end`` the add is written at the end of that block."""
    held = _held.get()
    if held is not None and held.take(model, keys, add):
        return
    _rollup_write(model, keys, add)


def _rollup_write(
    model: type[models.Model], keys: Mapping[str, Any], add: Mapping[str, int]
) -> None:
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

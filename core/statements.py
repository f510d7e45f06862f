"""Hot reads whose SQL is built once per process (issue 14).

Building and compiling a queryset is Python work that grows with the query: the locked read a
transition starts with (the case, both agencies, the applicant's account as two subqueries) costs
about 2 ms of CPU to build and compile, against 0.6 ms to send it and read its row; the visibility
check of a transition through the API, half of its 1 ms. Their shape never changes, only the keys do (the case's
key; a reference and an agency code). ``FrozenQuery`` compiles such a read once per process and
database and then runs the same SQL with the keys bound in, through Django's own iterable, so the
rows come back exactly as the queryset would have made them (related objects, annotations,
converters, ``values_list`` tuples). On PostgreSQL only, the production database; elsewhere (SQLite,
``make run``) each read is its queryset built anew.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.fields import AutoFieldMixin
from django.db.transaction import TransactionManagementError

T = TypeVar("T")

# What the statement is compiled with, found again among the compiled parameters: values no other
# parameter of a hot read happens to be; the integer inside every integer column's range (Django
# compiles a lookup out of the column's range, a negative one on a positive field included, as
# matching nothing).
_INT_PROBE = 2_147_483_029
_TEXT_PROBE = "\ufffcfrozen-key-{}\ufffc"


def _probe(index: int, value: Any) -> Any:
    if type(value) is dt.date:
        # A day no record of ours holds (PostgreSQL takes dates as they are).
        return dt.date(1001 + index, 1, 1)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(
            f"a frozen query's keys are integers, text or days, not {type(value).__name__}"
        )
    return _INT_PROBE + index if isinstance(value, int) else _TEXT_PROBE.format(index)


class FrozenQuery(Generic[T]):
    """``build(*keys)`` (a queryset filtered by the keys: integers, text or days) compiled once per
    database alias, then run with other keys: ``get(*keys)`` returns the one row (a model object,
    or what ``values_list`` and the like make) or None, ``rows(*keys)`` every row.

    ``build`` must pass each key to the query as it is (an exact lookup, not a pattern) and use
    nothing else that changes between calls (the time, a user, a setting): the SQL and every
    other parameter are those of the first call.
    """

    def __init__(self, build: Callable[..., QuerySet[Any, T]]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled[T]] = {}

    def _compile(self, using: str, keys: tuple[Any, ...]) -> _Compiled[T]:
        probes = [_probe(i, key) for i, key in enumerate(keys)]
        queryset = self._build(*probes).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots: list[int | None] = [None] * len(params)
        for position, value in enumerate(params):
            for index, probe in enumerate(probes):
                if type(value) is type(probe) and value == probe:
                    slots[position] = index
        missing = [i for i in range(len(keys)) if i not in slots]
        if missing:
            raise ValueError(f"key {missing[0]} does not reach the statement as it was given")
        compiled = _Compiled(
            queryset, compiler, sql, tuple(params), tuple(slots), tuple(type(k) for k in keys)
        )
        self._compiled[using] = compiled
        return compiled

    def get(self, *keys: Any, using: str = DEFAULT_DB_ALIAS) -> T | None:
        rows = self.rows(*keys, using=using)
        if len(rows) > 1:
            model = self._build(*keys).model
            raise model.MultipleObjectsReturned(f"{len(rows)} rows for {keys}")
        return rows[0] if rows else None

    def rows(self, *keys: Any, using: str = DEFAULT_DB_ALIAS) -> list[T]:
        """Every row the statement returns for ``keys``, in its order."""
        connection = connections[using]
        if connection.vendor != "postgresql":
            # Elsewhere (SQLite: make run, the embedded default) the queryset itself, built anew:
            # other backends adapt parameters (a day becomes text) before the probes could be
            # found, and their speed is not what this is for.
            return list(self._build(*keys).using(using))
        compiled = self._compiled.get(using)
        if compiled is not None and [type(k) for k in keys] != list(compiled.key_types):
            raise TypeError(f"keys of types {compiled.key_types}, not {keys!r}")
        if compiled is None:
            # Compiling a locking read checks that a transaction is open; so does every run below.
            compiled = self._compile(using, keys)
        queryset = compiled.queryset
        if (
            queryset.query.select_for_update
            and connection.features.has_select_for_update
            and connection.get_autocommit()
        ):
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        sql = compiled.sql
        bound = tuple(
            value if slot is None else keys[slot]
            for value, slot in zip(compiled.params, compiled.slots, strict=True)
        )
        # A copy per run: the compiler's state from compiling is only read, and each thread
        # runs it on its own connection.
        run_compiler = copy.copy(compiled.compiler)
        run_compiler.connection = connection
        run_compiler.as_sql = lambda *args, **kwargs: (sql, bound)
        run = queryset._chain()
        run.query.get_compiler = lambda *args, **kwargs: run_compiler
        return list(run)


@dataclass(frozen=True)
class _Compiled(Generic[T]):
    queryset: QuerySet[Any, T]
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    # For each parameter, the key it is (its index), or None for a constant of the statement.
    slots: tuple[int | None, ...]
    # The keys' types as compiled: a key of another type (None included) is refused, not bound.
    key_types: tuple[type, ...]


def row_insert(instance: Model) -> None:
    """Insert a new model row and set its key: on PostgreSQL an ``INSERT ... RETURNING`` written
    from the model's columns (each value prepared by its field, ``auto_now`` and the like
    included), elsewhere ``save(force_insert=True)``. For the rows every move appends (its clock,
    its event): compiling the ORM's insert cost several times what PostgreSQL takes to run it.
    No ``pre_save``/``post_save`` signals are sent on the hand-written path (none are connected to
    these models)."""
    meta = instance._meta
    connection = connections[router.db_for_write(type(instance), instance=instance)]
    fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
    by_hand = (
        connection.vendor == "postgresql"
        and instance._state.adding
        and instance.pk is None
        and isinstance(meta.pk, AutoFieldMixin)
        and not meta.parents
        and not any(hasattr(getattr(instance, f.attname), "resolve_expression") for f in fields)
    )
    if not by_hand:
        # Anything else (another database, a key of its own, an inherited model, an expression
        # or a database default as a value): the ORM's own insert.
        instance.save(force_insert=True)
        return
    # As save() does first: a related object assigned before it was saved is refused.
    instance._prepare_related_fields_for_save(operation_name="row_insert")
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    qn = connection.ops.quote_name
    names = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with (
        transaction.mark_for_rollback_on_error(using=connection.alias),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"INSERT INTO {qn(meta.db_table)} ({names}) VALUES ({marks}) "  # noqa: S608 - the model's own columns
            f"RETURNING {qn(meta.pk.column)}",
            values,
        )
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias

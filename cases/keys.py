"""Rotating the ID-number encryption key: re-encrypt stored tokens with the newest key.

``ID_NUMBER_KEYS`` is a list: the first key encrypts, every key decrypts. To rotate, an operator puts
a new key first (the old one stays, so every process can still read old rows), runs
``manage.py reencrypt_id_numbers`` until it reports nothing left, then removes the old key
(docs/operations.md, "Rotating the ID-number key").

The pass walks each table in primary-key order, one batch per transaction, and locks the batch's
rows (``SELECT ... FOR UPDATE``) so a transition that holds a case's row lock either finishes
before the batch or reads the new token after it. A row already readable with the newest key alone
is left as it is, so the pass is idempotent and an interrupted one simply runs again. Digests and
masks do not depend on the key and are not touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models, transaction

from accounts.models import User
from cases.models import TransferCase
from core.identity import id_number_reencrypt

# The tables holding ID-number tokens, by the name the command prints.
TABLES: dict[str, type[models.Model]] = {"cases": TransferCase, "accounts": User}


@dataclass
class ReencryptReport:
    table: str
    examined: int = 0
    reencrypted: int = 0
    current: int = 0
    unreadable: list[int] = field(default_factory=list)


def _newest_key() -> Fernet:
    return Fernet(settings.ID_NUMBER_KEYS[0].strip().encode())


def id_number_token_is_current(token: str, *, newest: Fernet | None = None) -> bool:
    """True when the newest key alone decrypts ``token`` (it needs no re-encryption)."""
    try:
        (newest or _newest_key()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def id_numbers_reencrypt(
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    on_batch: Callable[[ReencryptReport], None] | None = None,
) -> list[ReencryptReport]:
    """Re-encrypt every stored ID number that is not on the newest key; one report per table.

    Rows no configured key decrypts are counted in ``unreadable`` (their ids) and left alone.
    ``dry_run`` counts without writing. ``on_batch`` is called after each committed batch.
    """
    newest = _newest_key()
    reports = []
    for table, model in TABLES.items():
        report = ReencryptReport(table=table)
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.filter(pk__gt=last_pk)
                    .exclude(id_number_encrypted="")
                    .order_by("pk")
                    .select_for_update(of=("self",))
                    .values_list("pk", "id_number_encrypted")[:batch_size]
                )
                if not rows:
                    break
                changed = []
                for pk, token in rows:
                    report.examined += 1
                    if id_number_token_is_current(token, newest=newest):
                        report.current += 1
                        continue
                    try:
                        new_token = id_number_reencrypt(token)
                    except InvalidToken:
                        report.unreadable.append(pk)
                        continue
                    changed.append(model(pk=pk, id_number_encrypted=new_token))
                if changed and not dry_run:
                    model.objects.bulk_update(changed, ["id_number_encrypted"])
                report.reencrypted += len(changed)
                last_pk = rows[-1][0]
            if on_batch:
                on_batch(report)
        reports.append(report)
    return reports

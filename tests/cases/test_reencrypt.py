"""Key rotation: ``reencrypt_id_numbers`` moves every stored ID number to the newest key, in
batches, idempotently and resumably, without changing what the rows say."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User
from cases import keys
from cases.models import TransferCase
from cases.services import Applicant
from core.identity import id_number_decrypt
from tests.conftest import make_id_number

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
CASES = 7


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("reencrypt_id_numbers", *args, stdout=out, stderr=out)
    return out.getvalue()


def tokens() -> dict[tuple[str, int], str]:
    rows = {
        ("case", pk): t for pk, t in TransferCase.objects.values_list("pk", "id_number_encrypted")
    }
    for pk, t in User.objects.exclude(id_number_encrypted="").values_list(
        "pk", "id_number_encrypted"
    ):
        rows["user", pk] = t
    return rows


def readable_with(key: str) -> dict[tuple[str, int], bool]:
    fernet = Fernet(key.encode())
    return {k: keys.id_number_token_is_current(t, newest=fernet) for k, t in tokens().items()}


@pytest.fixture
def old_rows(submit_case, personas) -> dict[tuple[str, int], str]:
    """Applicant accounts and cases written while OLD was the only key; their plain numbers."""
    applicants = {
        u.pk: id_number_decrypt(u.id_number_encrypted)
        for u in User.objects.all()
        if u.id_number_encrypted
    }
    with override_settings(ID_NUMBER_KEYS=[OLD]):
        for pk, number in applicants.items():
            user = User.objects.get(pk=pk)
            user.set_id_number(number)
            user.save()
        for i in range(CASES):
            submit_case(
                actor=personas["cw_out"],
                applicant=Applicant(
                    name="王五", id_number=make_id_number("440306", "19850101", 300 + i)
                ),
            )
        numbers = {k: id_number_decrypt(t) for k, t in tokens().items()}
    assert len(numbers) == CASES + 2  # the cases and the two applicant personas
    return numbers


@pytest.mark.django_db
def test_every_row_moves_to_the_newest_key_and_reads_the_same(old_rows):
    digests = dict(TransferCase.objects.values_list("pk", "id_number_digest"))
    with override_settings(ID_NUMBER_KEYS=[NEW, OLD]):
        out = run("--batch-size", "3")
        assert f"cases: {CASES} examined, {CASES} re-encrypted, 0 already" in out
        assert "accounts: 2 examined, 2 re-encrypted" in out
        assert "every ID number is on the newest key" in out
    assert all(readable_with(NEW).values())
    assert not any(readable_with(OLD).values())
    # The old key can go now: the newest alone reads every row, and the rows say the same.
    with override_settings(ID_NUMBER_KEYS=[NEW]):
        assert {k: id_number_decrypt(t) for k, t in tokens().items()} == old_rows
    assert dict(TransferCase.objects.values_list("pk", "id_number_digest")) == digests


@pytest.mark.django_db
def test_a_second_run_changes_nothing(old_rows):
    with override_settings(ID_NUMBER_KEYS=[NEW, OLD]):
        run()
        before = tokens()
        out = run()
    assert f"cases: {CASES} examined, 0 re-encrypted, {CASES} already on the newest key" in out
    assert tokens() == before


@pytest.mark.django_db
def test_check_counts_without_writing_and_fails_while_rows_remain(old_rows):
    before = tokens()
    with override_settings(ID_NUMBER_KEYS=[NEW, OLD]):
        with pytest.raises(CommandError, match="rows remain on an older key"):
            run("--check")
        assert tokens() == before
        run()
        assert "every ID number is on the newest key" in run("--check")


@pytest.mark.django_db
def test_an_interrupted_run_resumes(old_rows, monkeypatch):
    """Batches commit one by one: a run stopped after its first batch keeps that batch, and the
    next run finishes the rest."""

    class Stop(Exception):
        pass

    def stop_after_first(report: keys.ReencryptReport) -> None:
        raise Stop

    with override_settings(ID_NUMBER_KEYS=[NEW, OLD]):
        with pytest.raises(Stop):
            keys.id_numbers_reencrypt(batch_size=3, on_batch=stop_after_first)
        assert sum(readable_with(NEW).values()) == 3
        out = run("--batch-size", "3")
    assert f"cases: {CASES} examined, {CASES - 3} re-encrypted, 3 already" in out
    assert all(readable_with(NEW).values())


@pytest.mark.django_db
def test_unreadable_rows_are_reported_and_the_rest_still_moves(old_rows):
    stranger = Fernet(Fernet.generate_key())
    lost = TransferCase.objects.order_by("pk").first()
    TransferCase.objects.filter(pk=lost.pk).update(
        id_number_encrypted=stranger.encrypt(b"11010519491231002X").decode()
    )
    message = rf"1 row\(s\) in cases .*ids: {lost.pk}\)"
    with override_settings(ID_NUMBER_KEYS=[NEW, OLD]), pytest.raises(CommandError, match=message):
        run()
    readable = readable_with(NEW)
    assert readable.pop(("case", lost.pk)) is False
    assert all(readable.values())


@pytest.mark.django_db
def test_batch_size_must_be_positive():
    with pytest.raises(CommandError, match="--batch-size"):
        run("--batch-size", "0")

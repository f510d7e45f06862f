"""The case list in the admin takes only the filters it shows, and the lookup by full ID number is
throttled and audited: neither can be used to recover what the pages mask."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from cases.admin import MSG_ID_LOOKUP_THROTTLED
from core.identity import id_number_decrypt

CHANGELIST = reverse("admin:cases_transfercase_changelist")
ID_LOOKUP = reverse("admin:cases_transfercase_id_lookup")

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, personas):
    client.force_login(personas["cw_out"])
    return client


@pytest.mark.parametrize(
    "query",
    [
        "phone__startswith=1390",
        "phone__regex=(",
        "id_number_masked__contains=1",
        "applicant_name__startswith=张",
        "created_at__year=99999",
        "state__exact=%00",
        "state__regex=.*",
    ],
)
def test_lookups_outside_the_filters_are_refused(staff_client, submit_case, query):
    submit_case()
    response = staff_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("state__exact=applied", True),
        ("state__exact=withdrawn", False),
        ("insurance_type__exact=employee", True),
        ("side=out", True),
        ("side=in", False),
    ],
)
def test_the_listed_filters_work(staff_client, submit_case, query, listed):
    case = submit_case()
    response = staff_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert (case.reference in response.content.decode()) is listed


def test_the_id_lookup_is_throttled_per_account_and_audited(staff_client, submit_case, caplog):
    case = submit_case()
    number = id_number_decrypt(case.id_number_encrypted)
    caplog.set_level(logging.INFO, logger="cases.admin")
    for _ in range(20):
        response = staff_client.post(ID_LOOKUP, {"id_number": number})
        assert response.status_code == 302
        assert response["Location"].endswith(f"/{case.pk}/change/")
    refused = staff_client.post(ID_LOOKUP, {"id_number": number}, follow=True)
    assert str(MSG_ID_LOOKUP_THROTTLED) in refused.content.decode()
    assert refused.redirect_chain[0][0] == CHANGELIST
    audit = [r.getMessage() for r in caplog.records if "admin id lookup" in r.getMessage()]
    assert len(audit) == 21
    assert audit[0].startswith("admin id lookup user=")
    assert "found=1" in audit[0]
    assert "throttled" in audit[-1]
    assert not any(number in line or number[6:14] in line for line in audit)

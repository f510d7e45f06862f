"""Concurrent first downloads of one document on PostgreSQL make one document, and every caller
gets the same bytes."""

from __future__ import annotations

import pytest

from documents.models import IssuedDocument
from tests.api.conftest import bearer
from tests.api.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_first_downloads_issue_one_document(personas, case_in_state):
    case = case_in_state("transfer_out_approved")
    token = bearer(personas["cw_in"])

    def download(client):
        client.credentials(HTTP_AUTHORIZATION=token)
        r = client.get(f"/api/v1/cases/{case.reference}/documents/information-form.pdf")
        return r.status_code, r.content

    results = race(6, download)
    assert [status for status, _ in results] == [200] * 6
    assert len({content for _, content in results}) == 1
    assert IssuedDocument.objects.filter(case=case).count() == 1

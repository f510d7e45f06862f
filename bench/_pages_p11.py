"""P11, in the bench database: issue signed documents and fetch them again; prints JSON.

Run by bench/bench_pages.py with DATABASE_URL pointing at the seeded bench database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._api_settings")
django.setup()

from django.conf import settings  # noqa: E402

from accounts.models import User  # noqa: E402
from cases.models import TransferCase  # noqa: E402
from cases.services import case_transition  # noqa: E402
from documents.pki import signing_identity  # noqa: E402
from documents.services import document_issue  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(n: int) -> None:
    settings.DOCUMENT_PKI_DIR = tempfile.mkdtemp(prefix="bench-pki-")
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-media-")
    actor = User.objects.get(username="bench_cw")
    cases = list(TransferCase.objects.filter(state="applied").order_by("id")[:n])
    at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    for case in cases:
        case_transition(
            case=case,
            action="approve_transfer_out",
            actor=actor,
            payload={"contribution_months": 60, "personal_account_balance": "1234.56"},
            now=at,
        )
    # The agency's key exists before timing (made once per agency, not per document).
    signing_identity(cases[0].from_agency)
    document_issue(case=cases[0], kind="contact-letter", now=at)  # font loaded, warm
    issue, refetch = [], []
    for case in cases:
        t = time.perf_counter()
        first = document_issue(case=case, kind="information-form", now=at)
        issue.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        again = document_issue(case=case, kind="information-form", now=at)
        refetch.append((time.perf_counter() - t) * 1000)
        assert again.pdf == first.pdf
    print(
        json.dumps(
            {
                "documents": len(cases),
                "issue_p50_ms": round(statistics.median(issue), 1),
                "issue_p95_ms": round(percentile(issue, 0.95), 1),
                "refetch_p50_ms": round(statistics.median(refetch), 1),
                "refetch_p95_ms": round(percentile(refetch, 0.95), 1),
                "pdf_bytes": len(first.pdf),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)

"""The OpenAPI schema validates with no warnings, and schemathesis finds no server error and no
response that breaks it, driving the live server (R5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.signals import request_started
from django.test import override_settings

from tests.api.conftest import bearer

ROOT = Path(__file__).resolve().parents[2]
# Examples per operation and phase; raise SCHEMATHESIS_MAX_EXAMPLES for a longer run.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"))
MIN_REQUESTS = 1000


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{reference}/",
        "/api/v1/cases/{reference}/events/",
        "/api/v1/cases/{reference}/transitions/{action}/",
        "/api/v1/status-lookup/",
        "/api/v1/agencies/",
        "/api/v1/stats/sla/",
        "/api/v1/auth/token/",
    ):
        assert f"{path}:" in text
    assert "application/problem+json" in text
    assert "已申请（转出地审核中）" in text  # the case document example


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_schemathesis_against_the_live_server(live_server, personas, case_in_state, tmp_path):
    case_in_state("applied")
    for state in ("transfer_out_approved", "transfer_in_confirmed", "materials_requested"):
        case_in_state(state, actor=personas["cw_out"])
    seen = {"requests": 0}

    def count(**kwargs) -> None:
        seen["requests"] += 1

    request_started.connect(count)
    rates = {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "user": "100000/min",
        "anon": "100000/min",
    }
    try:
        with override_settings(
            REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        ):
            result = subprocess.run(  # noqa: S603 - fixed command line
                [
                    str(Path(sys.executable).with_name("schemathesis")),
                    "run",
                    f"{live_server.url}/api/schema/",
                    "--checks",
                    "not_a_server_error,status_code_conformance,content_type_conformance,"
                    "response_schema_conformance,response_headers_conformance",
                    "--header",
                    f"Authorization: {bearer(personas['supervisor'])}",
                    "--max-examples",
                    str(MAX_EXAMPLES),
                    "--phases",
                    "examples,coverage,fuzzing",
                    "--workers",
                    "1",
                    "--suppress-health-check",
                    "all",
                    "--request-timeout",
                    "30",
                    "--report",
                    "ndjson",
                    "--report-dir",
                    str(tmp_path),
                    "--no-color",
                ],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=540,
                check=False,
            )
    finally:
        request_started.disconnect(count)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert seen["requests"] >= MIN_REQUESTS, (seen, result.stdout[-2000:])
    reports = list(tmp_path.glob("*.ndjson"))
    assert reports, result.stdout[-2000:]
    failures = [
        line
        for report in reports
        for line in report.read_text().splitlines()
        if '"failure"' in line and json.loads(line).get("failure")
    ]
    assert failures == []

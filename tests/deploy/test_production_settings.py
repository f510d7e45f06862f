"""Production settings: ``manage.py check --deploy`` is silent, and a missing required variable
stops start-up with a message naming it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "yibao.example.org,localhost",
    "DATABASE_URL": "postgres://yibao:secret@db.invalid:5432/yibao",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "ID_NUMBER_KEYS": Fernet.generate_key().decode(),
    "ID_NUMBER_DIGEST_KEY": "digest-key-for-the-test",
    "PUBLIC_BASE_URL": "https://yibao.example.org",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from the test run (DJANGO_ENV=test, DATABASE_URL) leaks in.
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_prints_no_warnings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    "name",
    ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "ID_NUMBER_KEYS"],
)
def test_production_refuses_to_start_without(name: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert name in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "sqlite:////tmp/prod.sqlite3"),
        ("REDIS_URL", "localhost:6379"),
        ("ID_NUMBER_KEYS", "not-a-fernet-key"),
        ("SECRET_KEY", "short"),
    ],
)
def test_production_refuses_to_start_with_a_malformed(name: str, value: str) -> None:
    result = _manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr

"""The container image, built from deploy/Dockerfile and started for real (quality.md R12).

podman builds the Dockerfile unchanged on a local stand-in for its base image (no registry is
reachable here: scripts/container_base.sh makes one with debootstrap), then the image migrates a
throwaway database on the local PostgreSQL and serves it with host networking on a read-only root
file system, as Kubernetes runs it: ``/readyz`` answers 200, and so does the image's own
HEALTHCHECK (deploy/healthcheck.py).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/yibao-transfer:test"


def run(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed commands of our own
        list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=check
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def image() -> str:
    base = run("bash", "scripts/container_base.sh").stdout.strip().splitlines()[-1]
    built = run(
        "podman", "build", "--format", "docker", "--build-arg", f"PYTHON_IMAGE={base}",
        "-f", "deploy/Dockerfile", "-t", IMAGE, ".",
        timeout=1200, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return IMAGE


@pytest.fixture
def database() -> Iterator[str]:
    name = f"yibao_container_{uuid.uuid4().hex[:8]}"
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database: str, port: int) -> list[str]:
    env = {
        "SECRET_KEY": "container-test-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "ID_NUMBER_KEYS": "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        "ID_NUMBER_DIGEST_KEY": "container-test-only",
        "PUBLIC_BASE_URL": "https://yibao.example.org",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    return [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]


def test_the_image_migrates_serves_and_reports_healthy(image, database):
    inspected = json.loads(run("podman", "image", "inspect", image).stdout)[0]
    # --format docker keeps the HEALTHCHECK (OCI images have no such field).
    assert inspected["Healthcheck"]["Test"] == ["CMD", "python", "deploy/healthcheck.py"]
    assert inspected["Config"]["User"] == "10001:10001"
    # The signed documents' embedded Chinese font is in the image (production refuses without).
    font = run(
        "podman", "run", "--rm", image, "python", "-c",
        "import pathlib, sys; "
        "sys.exit(not pathlib.Path('/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc').is_file())",
        check=False,
    )  # fmt: skip
    assert font.returncode == 0, font.stderr

    port = free_port()
    env = production_env(database, port)
    migrated = run(
        "podman", "run", "--rm", "--network", "host", *env, image,
        "python", "manage.py", "migrate", "--noinput",
        check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]

    name = f"yibao-web-{uuid.uuid4().hex[:8]}"
    run(
        "podman", "run", "-d", "--name", name, "--network", "host",
        "--read-only", "--tmpfs", "/dev/shm", *env, image,  # noqa: S108 - as k8s mounts it
    )  # fmt: skip
    try:
        status = None
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/readyz", headers={"Host": "127.0.0.1"}
        )
        for _ in range(120):
            try:
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    status = response.status
                    break
            except OSError:
                time.sleep(0.5)
        logs = run("podman", "logs", name, check=False)
        assert status == 200, logs.stdout[-2000:] + logs.stderr[-2000:]
        # The home page, with its style sheet from the collected static files (WhiteNoise).
        # As the TLS-terminating proxy forwards it (production redirects plain HTTP to HTTPS).
        proxied = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
        home = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=proxied)
        with urllib.request.urlopen(home, timeout=5) as response:  # noqa: S310
            page = response.read().decode()
        assert "查询办理进度" in page
        css = re.search(r'href="(/static/portal/site\.[0-9a-f]+\.css)"', page)
        assert css, page[:500]
        sheet = urllib.request.Request(f"http://127.0.0.1:{port}{css.group(1)}", headers=proxied)
        with urllib.request.urlopen(sheet, timeout=5) as response:  # noqa: S310
            assert response.status == 200
        # htmx and ECharts are in the image (scripts/assets.sh, before the build) and served by it.
        manifest = run(
            "podman", "exec", name, "python", "-c",
            "import json; m = json.load(open('/app/staticfiles/staticfiles.json'))['paths'];"
            "print(m['desk/vendor/htmx.min.js']); print(m['desk/vendor/echarts.min.js'])",
        ).stdout.split()  # fmt: skip
        for asset in manifest:
            served = urllib.request.Request(
                f"http://127.0.0.1:{port}/static/{asset}", headers=proxied
            )
            with urllib.request.urlopen(served, timeout=5) as response:  # noqa: S310
                assert response.status == 200
                assert len(response.read()) > 40_000, asset
        health = run("podman", "exec", name, "python", "deploy/healthcheck.py", check=False)
        assert health.returncode == 0, health.stderr
        # Nothing the image does may need to write to its read-only /app (gunicorn's control
        # socket defaulted to /app/.gunicorn).
        logs = run("podman", "logs", name, check=False)
        assert "Read-only file system" not in logs.stdout + logs.stderr
        assert "[ERROR]" not in logs.stdout + logs.stderr
        # The worker's healthcheck names its node by the container's host name.
        assert run("podman", "exec", name, "hostname").stdout.strip()
    finally:
        run("podman", "rm", "-f", name, check=False)

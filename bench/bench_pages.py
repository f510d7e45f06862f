"""Page benchmarks: P10 (the applicant's status page against the JSON status lookup of the same
case, same run) and P11 (issuing a signed PDF, and fetching it again).

    .venv/bin/python bench/bench_pages.py [--runs 3] [--duration 10] [--workers 4] [--documents 50]

Seeds the PostgreSQL database ``bench_api`` like bench/bench_api.py (1,000 cases), starts gunicorn
(sync workers, DEBUG off, throttles lifted) and drives it with wrk from 127.0.0.1:

- P10: ``POST /status/`` (the HTML page, with its CSRF cookie and token, as a browser sends it)
  and ``POST /api/v1/status-lookup/`` (JSON) for the same case, runs alternating; the ratio of
  their medians.
- P10 (staff): ``GET /desk/?show=all`` (the workbench's queue, HTML, 50 cases, signed in with a
  session cookie as a browser is) and ``GET /api/v1/cases/?page_size=50`` (JSON, the same
  caseworker's token) over the same 1,000 cases, runs alternating; the ratio of their medians.
- P11: in one process on the same database (bench/_pages_p11.py): approve N cases, then for each
  issue its information form (render, sign, store) and fetch it again (the stored bytes).
Prints a JSON summary (docs/performance.md quotes it); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_api import (
    BASE,
    DB_SMALL,
    PORT,
    REPORT_LUA,
    ROOT,
    Server,
    fetch,
    log,
    seed,
    server_env,
    wrk,
)

SUFFIX = "31002X"  # bench/_api_seed.py: every seeded case carries this ID number

GET_COOKIE_LUA = """
local cookie = os.getenv("BENCH_COOKIE")
if cookie ~= nil and cookie ~= "" then wrk.headers["Cookie"] = cookie end
"""

POST_LUA = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
local cookie = os.getenv("BENCH_COOKIE")
if cookie ~= nil and cookie ~= "" then wrk.headers["Cookie"] = cookie end
"""


def wrk_post(
    path: str, *, body: str, content_type: str, cookie: str, seconds: int, connections: int
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(POST_LUA + REPORT_LUA)
        lua = f.name
    env = {
        **os.environ,
        "BENCH_BODY": body,
        "BENCH_CONTENT_TYPE": content_type,
        "BENCH_COOKIE": cookie,
    }
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        lua,
        BASE + path,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout  # noqa: S603
    os.unlink(lua)
    result = json.loads(next(x for x in out.splitlines() if x.startswith("JSON "))[5:])
    result["rps"] = result["requests"] / result["seconds"]
    if result["errors"]:
        raise RuntimeError(f"{path}: {result['errors']} errors")
    return result


def session_cookie(username: str, password: str) -> str:
    """Sign in through /signin/ as a browser does; the session and CSRF cookies it ends with."""
    cookie, token = csrf_pair()
    body = f"csrfmiddlewaretoken={token}&username={username}&password={password}".encode()
    request = urllib.request.Request(  # noqa: S310 - our own server
        BASE + "/signin/",
        data=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=5)
    except urllib.error.HTTPError as answer:  # the 302 after signing in
        cookies = [c.split(";", 1)[0] for c in answer.headers.get_all("Set-Cookie") or []]
        session = next(c for c in cookies if c.startswith("sessionid="))
        return f"{cookie}; {session}"
    raise RuntimeError("signing in did not redirect")


def queue_p10(seeded: dict, args: argparse.Namespace) -> dict:
    """The workbench's queue against the JSON list of the same cases, same run."""
    cookie = session_cookie("bench_cw", "bench-password")
    page_path, api_path = "/desk/?show=all", "/api/v1/cases/?page_size=50"
    request = urllib.request.Request(BASE + page_path, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        html = response.read().decode()
    rows = len(re.findall(r'class="case-link"', html))
    api_rows = len(json.loads(fetch(api_path, seeded["token"]))["results"])
    assert rows == api_rows == 50, (rows, api_rows)
    env = {"BENCH_COOKIE": cookie}
    wrk(page_path, "", seconds=2, connections=args.connections, script=GET_COOKIE_LUA, env=env)
    wrk(api_path, seeded["token"], seconds=2, connections=args.connections)
    page_runs, api_runs = [], []
    for _ in range(args.runs):
        page_runs.append(
            wrk(
                page_path,
                "",
                seconds=args.duration,
                connections=args.connections,
                script=GET_COOKIE_LUA,
                env=env,
            )
        )
        api_runs.append(
            wrk(api_path, seeded["token"], seconds=args.duration, connections=args.connections)
        )
        log(f"P10 queue {page_runs[-1]['rps']:.0f}/s list {api_runs[-1]['rps']:.0f}/s")
    page_rps = statistics.median(r["rps"] for r in page_runs)
    api_rps = statistics.median(r["rps"] for r in api_runs)
    return {
        "rows": rows,
        "page_rps_runs": [round(r["rps"]) for r in page_runs],
        "api_rps_runs": [round(r["rps"]) for r in api_runs],
        "page_p99_ms": round(statistics.median(r["p99_ms"] for r in page_runs), 1),
        "api_p99_ms": round(statistics.median(r["p99_ms"] for r in api_runs), 1),
        "ratio": round(page_rps / api_rps, 3),
    }


def csrf_pair() -> tuple[str, str]:
    """A browser's CSRF cookie and the form's token, from the home page."""
    with urllib.request.urlopen(BASE + "/", timeout=5) as response:  # noqa: S310
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return cookie, token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--documents", type=int, default=50)
    args = parser.parse_args()

    seeded = seed(1000, DB_SMALL)
    reference = f"{seeded['prefix']}{500:08d}"
    server = Server(args.workers, DB_SMALL, PORT, {})
    results: dict = {}
    try:
        cookie, token = csrf_pair()
        page_body = f"csrfmiddlewaretoken={token}&reference={reference}&id_number_suffix={SUFFIX}"
        api_body = json.dumps({"reference": reference, "id_number_suffix": SUFFIX})
        page = {
            "body": page_body,
            "content_type": "application/x-www-form-urlencoded",
            "cookie": cookie,
        }
        api = {"body": api_body, "content_type": "application/json", "cookie": ""}
        # Both answer the case (not a 404 or 403) before anything is timed.
        check = urllib.request.Request(  # noqa: S310 - our own server
            BASE + "/status/",
            data=page_body.encode(),
            headers={"Cookie": cookie, "Content-Type": page["content_type"]},
        )
        with urllib.request.urlopen(check, timeout=5) as response:  # noqa: S310
            assert reference in response.read().decode()
        for kind in (page, api):
            wrk_post(
                "/status/" if kind is page else "/api/v1/status-lookup/",
                seconds=2,
                connections=args.connections,
                **kind,
            )
        page_runs, api_runs = [], []
        for _ in range(args.runs):
            page_runs.append(
                wrk_post("/status/", seconds=args.duration, connections=args.connections, **page)
            )
            api_runs.append(
                wrk_post(
                    "/api/v1/status-lookup/",
                    seconds=args.duration,
                    connections=args.connections,
                    **api,
                )
            )
            log(f"P10 page {page_runs[-1]['rps']:.0f}/s api {api_runs[-1]['rps']:.0f}/s")
        page_rps = statistics.median(r["rps"] for r in page_runs)
        api_rps = statistics.median(r["rps"] for r in api_runs)
        results["P10"] = {
            "page_rps_runs": [round(r["rps"]) for r in page_runs],
            "api_rps_runs": [round(r["rps"]) for r in api_runs],
            "page_p99_ms": round(statistics.median(r["p99_ms"] for r in page_runs), 1),
            "api_p99_ms": round(statistics.median(r["p99_ms"] for r in api_runs), 1),
            "ratio": round(page_rps / api_rps, 3),
        }
        results["P10_queue"] = queue_p10(seeded, args)
    finally:
        server.stop()
    out = subprocess.run(  # noqa: S603 - fixed command line
        [sys.executable, "bench/_pages_p11.py", str(args.documents)],
        cwd=ROOT,
        env=server_env(DB_SMALL),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    results["P11"] = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

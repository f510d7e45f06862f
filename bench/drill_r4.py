"""R4 drill (quality.md): PostgreSQL restarted under load. Not part of `make test`; results in
docs/reliability.md.

What it does, in a scratch directory (deleted afterwards unless --keep), with the scale-out
drill's helpers (deploy/drill/drill.py: ``Cluster``; its programs setup_data.py and cohort.py):

- its own PostgreSQL 15 cluster (initdb, free port) and redis-server; shared servers are never
  touched. Production settings (``DJANGO_ENV=production``, ``CONN_MAX_AGE=60``);
- one gunicorn (deploy/gunicorn.conf.py, 2 sync workers), the drill's accounts and 20 cases;
- a load loop: ``--threads`` threads (urllib, timeout ``--timeout`` s) alternating
  ``GET /api/v1/cases/{ref}/`` with the transfer-out caseworker's JWT and ``GET /readyz``;
- after ``--before`` s: ``pg_ctl stop -m fast``, ``--away`` s with PostgreSQL gone, ``pg_ctl start``,
  then ``--after`` s more. gunicorn is not restarted (its pids are compared).

Checks: every response while PostgreSQL is away is a 503 with ``application/problem+json``; no
500 and no request failing or hanging past the timeout in any phase; requests succeed again
after PostgreSQL is back, with the same gunicorn processes. It prints the counts by status code per
phase and endpoint and the recovery time (PostgreSQL accepting connections again -> first 200).

Usage: ``.venv/bin/python bench/drill_r4.py [--threads 6] [--away 10] [--keep]``.
Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script (bench/ is not a package): the project root, where ``deploy`` is, on sys.path.
sys.path.insert(0, str(ROOT))

from deploy.drill.drill import PASSWORD, Cluster  # noqa: E402


def log(message: str) -> None:
    print(f"[r4 {time.strftime('%H:%M:%S')}] {message}", flush=True)


def fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int | str, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code, exc.headers.get("Content-Type", "")
    except Exception as exc:
        return f"error:{type(exc).__name__}", ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--before", type=float, default=10.0)
    parser.add_argument("--away", type=float, default=10.0)
    parser.add_argument("--after", type=float, default=15.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="yibao-drill-r4-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - the postgres user runs the cluster inside
    cluster = Cluster(workdir)
    try:
        log(f"PostgreSQL on {cluster.pg_port}, in {workdir}")
        cluster.pg_start()
        cluster.redis_start()
        cluster.manage("migrate", "--noinput")
        cluster.manage("load_agencies")
        cluster.run_program("setup_data", PASSWORD)
        cluster.run_program("cohort", "1", "20")
        web = cluster.web(0)
        port = cluster.web_ports[0]
        base = f"http://127.0.0.1:{port}"
        cluster.wait_for(lambda: cluster.web_ready(port), "gunicorn")
        token_request = urllib.request.Request(  # noqa: S310
            base + "/api/v1/auth/token/",
            data=json.dumps({"username": "cw_out", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(token_request, timeout=10) as r:  # noqa: S310
            token = json.load(r)["access"]
        auth = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        cases_request = urllib.request.Request(base + "/api/v1/cases/", headers=auth)  # noqa: S310
        with urllib.request.urlopen(cases_request, timeout=10) as r:  # noqa: S310
            refs = [c["reference"] for c in json.load(r)["results"]]
        assert refs, "no cases listed"
        pids_before = (web.popen.pid, sorted(worker_pids(web.popen.pid)))
        log(f"gunicorn master {pids_before[0]}, workers {pids_before[1]}; {len(refs)} cases")

        phase = ["before"]
        results: list[tuple[str, str, int | str, str, float, float]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def loop(n: int) -> None:
            i = n
            while not stop.is_set():
                i += 1
                if i % 2:
                    endpoint, url, headers = (
                        "case",
                        f"{base}/api/v1/cases/{refs[i % len(refs)]}/",
                        auth,
                    )
                else:
                    endpoint, url, headers = "readyz", base + "/readyz", {}
                start_phase, t0 = phase[0], time.monotonic()
                status, ctype = fetch(url, headers, args.timeout)
                t1 = time.monotonic()
                label = start_phase if phase[0] == start_phase else f"{start_phase}->{phase[0]}"
                with lock:
                    results.append((label, endpoint, status, ctype, t0, t1))
                time.sleep(0.05)

        threads = [threading.Thread(target=loop, args=(n,)) for n in range(args.threads)]
        for t in threads:
            t.start()
        time.sleep(args.before)
        phase[0] = "stopping"
        log("pg_ctl stop -m fast")
        cluster.pg_ctl("stop", "-m", "fast", "-w")
        phase[0] = "away"
        time.sleep(args.away)
        phase[0] = "starting"
        log("pg_ctl start")
        cluster.pg_ctl("start", "-w", "-t", "60", "-l", str(workdir / "pg.log"), "-o",
                       f"-p {cluster.pg_port} -k {workdir} -c listen_addresses=127.0.0.1 "
                       "-c max_connections=200 -c shared_buffers=256MB")  # fmt: skip
        t_back = time.monotonic()
        phase[0] = "after"
        log("PostgreSQL accepting connections again")
        time.sleep(args.after)
        stop.set()
        for t in threads:
            t.join()
        pids_after = (web.popen.pid, sorted(worker_pids(web.popen.pid)))
        return report(results, t_back, pids_before, pids_after, web.log_text())
    finally:
        cluster.shutdown()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(  # noqa: S603
        ["pgrep", "-P", str(master)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [int(p) for p in out]


def report(results, t_back, pids_before, pids_after, web_log: str) -> int:
    counts: dict[tuple[str, str], collections.Counter[int | str]] = collections.defaultdict(
        collections.Counter
    )
    for label, endpoint, status, _ctype, _t0, _t1 in results:
        counts[(label, endpoint)][status] += 1
    order = ["before", "before->stopping", "stopping", "stopping->away", "away", "away->starting",
             "starting", "starting->after", "after"]  # fmt: skip
    log("responses by phase (at the request's start; a->b: the phase changed during the request):")
    for key in sorted(counts, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1])):
        print(f"    {key[0]:<18} {key[1]:<7} {dict(sorted(counts[key].items(), key=str))}")
    failures = []
    away = [r for r in results if r[0] == "away"]
    bad_away = [r for r in away if r[2] != 503 or not r[3].startswith("application/problem+json")]
    if not away:
        failures.append("no request was made while PostgreSQL was away")
    if bad_away:
        failures.append(f"{len(bad_away)} responses while away were not 503 problem+json: "
                        f"{collections.Counter((r[1], r[2], r[3]) for r in bad_away)}")  # fmt: skip
    errors = [r for r in results if r[2] == 500 or isinstance(r[2], str)]
    if errors:
        failures.append(f"{len(errors)} responses were 500 or failed: "
                        f"{collections.Counter((r[0], r[1], r[2]) for r in errors)}")  # fmt: skip
    slowest = max(r[5] - r[4] for r in results)
    first_ok = {
        endpoint: min((r[5] for r in results if r[1] == endpoint and r[2] == 200 and r[4] >= t_back),
                      default=None)
        for endpoint in ("case", "readyz")
    }  # fmt: skip
    for endpoint, t in first_ok.items():
        if t is None:
            failures.append(f"no 200 for {endpoint} after PostgreSQL returned")
        else:
            log(f"recovery ({endpoint}): first 200 {t - t_back:.2f} s after PostgreSQL was back")
    tail = [r for r in results if r[4] >= t_back + 5]
    not_ok = [r for r in tail if r[2] != 200]
    if not_ok:
        failures.append(f"{len(not_ok)} non-200 responses from 5 s after the return: "
                        f"{collections.Counter((r[1], r[2]) for r in not_ok)}")  # fmt: skip
    if pids_before != pids_after:
        failures.append(f"gunicorn processes changed: {pids_before} -> {pids_after}")
    log(f"requests: {len(results)}; slowest {slowest:.2f} s; gunicorn master and workers "
        f"{'unchanged' if pids_before == pids_after else 'CHANGED'}")  # fmt: skip
    # readyz logs its own warning with a traceback (expected); a 500 is "Internal Server Error".
    readiness = web_log.count("readiness: database unreachable")
    server_errors = web_log.count("Internal Server Error")
    log(f"gunicorn log: {readiness} readiness warnings, {server_errors} 'Internal Server Error'")
    if server_errors:
        start = web_log.find("Internal Server Error")
        print(web_log[start : start + 6000])
        failures.append(f"{server_errors} 'Internal Server Error' in the gunicorn log")
    for failure in failures:
        log("FAIL " + failure)
    log("PASS" if not failures else f"{len(failures)} FAIL")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

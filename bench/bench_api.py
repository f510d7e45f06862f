"""API benchmarks: P3 (case document), P4 (transitions), P5 (submit), P7 (cost against size).

    .venv/bin/python bench/bench_api.py [--runs 3] [--duration 10] [--workers 4] [--skip-large]
        [--writes-only | --reads-only] [--waits]

Creates (drops first) the PostgreSQL databases ``bench_api`` (1,000 cases) and
``bench_api_large`` (1,000,000; ``bench`` is BENCH_DB_PREFIX) on BENCH_ADMIN_DATABASE_URL
(default postgres://postgres@localhost:5432/postgres), migrates them, seeds agencies, the 2026
calendar, a caseworker and N cases by SQL (bench/_api_seed.py), starts gunicorn (sync workers,
DEBUG off, persistent connections, throttles lifted) and drives it with wrk from 127.0.0.1.

- P3: ``GET /api/v1/cases/{reference}/`` with a JWT, and in the same run, alternating with it,
  a bare Django view running the same queries and returning the same bytes (bench/_api_urls.py).
  Then p99 at 80% of the API's rate (wrk paced per connection with ``delay()``). ``--reads-only``
  runs P3 alone (the small database only).
- P4 and P4': ``POST .../transitions/approve_transfer_out/``, each request on another case, and in
  the same run, alternating with it, the hand-written limit doing the same writes with raw SQL
  (``POST /bench/limit/...``, bench/_api_limit.py); then the API paced at 80% of its rate;
  ``--waits`` samples pg_stat_activity during each run (lock waits, flushes, idle in transaction);
- P5: ``POST /api/v1/cases/`` at the window, each with another valid ID number: P4 and P5 on the
  1,000,000-case database after P7 (on the small one with --skip-large; ``--writes-only`` runs
  them alone).
- P7: p50 of the case read at a fixed, moderate rate with 1,000 and with 1,000,000 cases: one
  gunicorn per database, runs alternating between them.
Prints a JSON summary (docs/performance.md quotes it); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@localhost:5432/postgres"
)
# BENCH_DB_PREFIX keeps two people's benches (or a bench and a test run) apart on one server.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench")
DB_SMALL = f"{DB_PREFIX}_api"
DB_LARGE = f"{DB_PREFIX}_api_large"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
PORT_LARGE = PORT + 1
BASE = f"http://127.0.0.1:{PORT}"
BASE_LARGE = f"http://127.0.0.1:{PORT_LARGE}"
PACED_CONNECTIONS = 16

REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %.3f, "errors": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
"""

PACED_LUA = """
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
function delay() return pause end
"""

TRANSITION_LUA = """
local counter = 0
local threads = {}
local prefix = os.getenv("BENCH_PREFIX")
local first = tonumber(os.getenv("BENCH_FIRST"))
local per_thread = tonumber(os.getenv("BENCH_PER_THREAD"))
local index = 0
function setup(thread)
  thread:set("base", first + index * per_thread)
  index = index + 1
end
local path_format = os.getenv("BENCH_PATH_FORMAT")
function request()
  local i = base + counter
  counter = counter + 1
  local path = string.format(path_format, prefix, i)
  return wrk.format("POST", path, nil,
    '{"contribution_months": 60, "personal_account_balance": "1234.56"}')
end
"""

SUBMIT_LUA = """
local counter = 0
local index = 0
local weights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local checks = "10X98765432"
function setup(thread)
  thread:set("tid", index)
  index = index + 1
end
local function id_number(n)
  local seq = n % 1000
  local day = math.floor(n / 1000)
  local birth = os.date("%Y%m%d", os.time({year = 1960, month = 1, day = 1 + day, hour = 12}))
  local first17 = string.format("4403%02d%s%03d", 1 + tid, birth, seq)
  local total = 0
  for k = 1, 17 do total = total + tonumber(first17:sub(k, k)) * weights[k] end
  local r = total % 11
  return first17 .. checks:sub(r + 1, r + 1)
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"insurance_type": "employee", "from_agency": "440300", "to_agency": "430100", ' ..
    '"channel": "window", "stopped_at_source_on": "2026-10-31", ' ..
    '"enrolled_at_target_on": "2026-11-01", ' ..
    '"applicant": {"name": "王五", "id_number": "%s", "phone": "13900001111"}}',
    id_number(counter))
  return wrk.format("POST", "/api/v1/cases/", nil, body)
end
"""


def log(msg: str) -> None:
    print(f"[bench_api] {msg}", file=sys.stderr, flush=True)


def db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def recreate_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [name],
        )
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")


def server_env(db: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "bench._api_settings",
            "PYTHONPATH": str(ROOT),
            "DEBUG": "false",
            "DATABASE_URL": db_url(db),
            "CONN_MAX_AGE": "600",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_USER": "100000000/min",
            "THROTTLE_ANON": "100000000/min",
            "THROTTLE_STATUS_LOOKUP": "100000000/min",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        }
    )
    env.update(extra or {})
    return env


def seed(cases: int, db: str) -> dict:
    recreate_database(db)
    env = server_env(db)
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    t = time.monotonic()
    done = subprocess.run(  # noqa: S603 - fixed command line
        [py, "bench/_api_seed.py", str(cases)],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"seeding {db} failed:\n{done.stderr[-4000:]}")
    out = done.stdout
    log(f"seeded {cases} cases in {time.monotonic() - t:.1f} s")
    return {**json.loads(out.strip().splitlines()[-1]), "db": db}


class Server:
    def __init__(self, workers: int, db: str, port: int, extra_env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - fixed command line
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=server_env(db, extra_env),
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wrk(
    path: str,
    token: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    script: str = "",
    env: dict[str, str] | None = None,
    base: str = BASE,
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + REPORT_LUA)
        lua = f.name
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        lua,
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "Content-Type: application/json",
        base + path,
    ]
    out = subprocess.run(  # noqa: S603 - fixed command line
        cmd, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
    os.unlink(lua)
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    result = json.loads(line[5:])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def fetch(path: str, token: str) -> bytes:
    req = urllib.request.Request(BASE + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
        return resp.read()


def writes_only(args: argparse.Namespace) -> dict:
    """--writes-only: P4, P4' and P5 on one database, the large one unless --skip-large."""
    cases, db = (args.small, DB_SMALL) if args.skip_large else (args.large, DB_LARGE)
    seeded = seed(cases, db)
    body_file = Path(tempfile.gettempdir()) / f"{DB_PREFIX}_api_body.json"
    env = {"BENCH_BARE_BODY": str(body_file), "BENCH_USER_ID": str(seeded["user_id"])}
    server = Server(args.workers, db, PORT, env)
    try:
        ref = f"{seeded['prefix']}{cases - 1:08d}"
        body_file.write_bytes(fetch(f"/api/v1/cases/{ref}/", seeded["token"]))
        return writes(seeded, args, BASE)
    finally:
        server.stop()


def run(args: argparse.Namespace) -> dict:
    if args.writes_only:
        return writes_only(args)
    results: dict = {}
    small = seed(args.small, DB_SMALL)
    large = None if args.skip_large or args.reads_only else seed(args.large, DB_LARGE)
    body_file = Path(tempfile.gettempdir()) / f"{DB_PREFIX}_api_body.json"
    token = small["token"]
    ref = f"{small['prefix']}{args.small // 2:08d}"
    api_path = f"/api/v1/cases/{ref}/"
    bare_path = f"/bench/bare/{ref}/"
    servers = [
        Server(
            args.workers,
            DB_SMALL,
            PORT,
            {"BENCH_BARE_BODY": str(body_file), "BENCH_USER_ID": str(small["user_id"])},
        )
    ]
    try:
        body = fetch(api_path, token)
        body_file.write_bytes(body)
        assert fetch(bare_path, token) == body
        # Warm both.
        wrk(api_path, token, seconds=2, connections=args.connections)
        wrk(bare_path, token, seconds=2, connections=args.connections)
        api_runs, bare_runs = [], []
        for _ in range(args.runs):
            api_runs.append(
                wrk(api_path, token, seconds=args.duration, connections=args.connections)
            )
            bare_runs.append(
                wrk(bare_path, token, seconds=args.duration, connections=args.connections)
            )
            log(f"P3 api {api_runs[-1]['rps']:.0f}/s bare {bare_runs[-1]['rps']:.0f}/s")
        api_rps = median(api_runs, "rps")
        target = 0.8 * api_rps
        paced, delay_ms = paced_runs(api_path, token, target, args)
        results["P3"] = {
            "api_rps_runs": [round(r["rps"]) for r in api_runs],
            "bare_rps_runs": [round(r["rps"]) for r in bare_runs],
            "api_rps": round(api_rps),
            "bare_rps": round(median(bare_runs, "rps")),
            "ratio": round(api_rps / median(bare_runs, "rps"), 3),
            "api_p99_ms_full_load": round(median(api_runs, "p99_ms"), 1),
            "paced_target_rps": round(target),
            "paced_delay_ms": delay_ms,
            "paced_rps": round(median(paced, "rps")),
            "paced_p50_ms": round(median(paced, "p50_ms"), 2),
            "paced_p99_ms": round(median(paced, "p99_ms"), 2),
            "errors": sum(r["errors"] for r in api_runs + bare_runs + paced),
            "bytes": len(body),
        }
        log(f"P3 {results['P3']}")
        if args.reads_only:
            return results
        if large is None:
            results["P7_small"] = p7([(api_path, token, BASE)], args)[0]
            results.update(writes(small, args, BASE))
            return results
        # P7: the same read on both databases, served by two servers, runs alternating so
        # both sides see the same machine.
        servers.append(
            Server(
                args.workers,
                DB_LARGE,
                PORT_LARGE,
                {"BENCH_BARE_BODY": str(body_file), "BENCH_USER_ID": str(large["user_id"])},
            )
        )
        large_path = f"/api/v1/cases/{large['prefix']}{args.large // 2:08d}/"
        small_p7, large_p7 = p7(
            [(api_path, token, BASE), (large_path, large["token"], BASE_LARGE)], args
        )
        results["P7"] = {
            "small": small_p7,
            "large": large_p7,
            "p50_ratio": round(large_p7["p50_ms"] / small_p7["p50_ms"], 3),
        }
        log(f"P7 {results['P7']}")
        servers.pop(0).stop()
        results.update(writes(large, args, BASE_LARGE))
    finally:
        for server in servers:
            server.stop()
    return results


API_TRANSITION = "/api/v1/cases/%s%08d/transitions/approve_transfer_out/"
LIMIT_TRANSITION = "/bench/limit/%s%08d/approve_transfer_out/"


class CaseBlocks:
    """Hands out disjoint ranges of the seeded cases (all applied at 440300), one per wrk run,
    so every transition moves a case nobody moved before."""

    def __init__(self, cases: int, blocks: int, threads: int) -> None:
        self.per_thread = (cases - 10) // (blocks * threads)
        self.threads = threads
        self.next = 1

    def env(self, path_format: str, prefix: str) -> dict[str, str]:
        first = self.next
        self.next += self.per_thread * self.threads
        return {
            "BENCH_PREFIX": prefix,
            "BENCH_FIRST": str(first),
            "BENCH_PER_THREAD": str(self.per_thread),
            "BENCH_PATH_FORMAT": path_format,
        }


class WaitSampler:
    """Samples ``pg_stat_activity`` of one database every 10 ms while a run goes on (--waits):
    what the server's backends are doing, as shares of the samples. ``Lock:transactionid`` or
    ``Lock:tuple`` is a transaction waiting for another's row lock; ``idle in transaction`` a
    backend waiting for its client (Python) between two statements of an open transaction;
    ``IO:WALSync`` the commit's flush."""

    SQL = (
        "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU') "
        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' AND state <> 'idle'"
    )

    def __init__(self, db: str) -> None:
        import threading

        self.db = db
        self.counts: dict[str, int] = {}
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(db_url(self.db), autocommit=True) as conn:
            while not self.stop.wait(0.01):
                self.samples += 1
                for state, wait in conn.execute(self.SQL, [self.db]).fetchall():
                    key = "idle in transaction" if state.startswith("idle in") else wait
                    self.counts[key] = self.counts.get(key, 0) + 1

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def summary(self) -> dict[str, float]:
        """Backends in each state per sample (the average number of backends doing it)."""
        top = sorted(self.counts.items(), key=lambda kv: -kv[1])[:8]
        return {k: round(v / max(1, self.samples), 2) for k, v in top}


def writes(seeded: dict, args: argparse.Namespace, base: str) -> dict:
    """P4 and P4' on the seeded database: transitions through the API and through the hand-written
    limit view (bench/_api_limit.py), runs alternating, each request on another applied case; then
    the API paced at 80% of its rate; then P5 (submits)."""
    results: dict = {}
    token = seeded["token"]
    threads = 2
    # warm-up (2) + alternating runs (2 per run) + pacing probes (2) + paced runs
    blocks = CaseBlocks(seeded["cases"], 2 + 3 * args.runs + 2, threads)
    conns = args.write_connections

    def transitions(path_format: str, seconds: int, extra: str = "", delay: int = 0) -> dict:
        env = blocks.env(path_format, seeded["prefix"])
        if extra:
            env["BENCH_DELAY_MS"] = str(delay)
        sampler = WaitSampler(seeded["db"]) if args.waits else None
        with sampler or contextlib.nullcontext():
            result = wrk(
                "/api/v1/cases/",
                token,
                seconds=seconds,
                connections=conns,
                threads=threads,
                script=TRANSITION_LUA + extra,
                env=env,
                base=base,
            )
        if sampler is not None:
            result["waits"] = sampler.summary()
            log(f"{path_format.split('/')[1]} waits per sample: {result['waits']}")
        return result

    transitions(API_TRANSITION, 2)
    transitions(LIMIT_TRANSITION, 2)
    api_runs, limit_runs = [], []
    for _ in range(args.runs):
        api_runs.append(transitions(API_TRANSITION, args.write_duration))
        limit_runs.append(transitions(LIMIT_TRANSITION, args.write_duration))
        log(
            f"P4 api {api_runs[-1]['rps']:.0f}/s p99 {api_runs[-1]['p99_ms']:.0f} ms, "
            f"limit {limit_runs[-1]['rps']:.0f}/s p99 {limit_runs[-1]['p99_ms']:.0f} ms, "
            f"errors {api_runs[-1]['errors']} / {limit_runs[-1]['errors']}"
        )
    api_rps = median(api_runs, "rps")
    target = 0.8 * api_rps
    # Paced: each connection waits ``delay`` ms after each response (wrk is closed-loop); two short
    # probes correct the delay for the time the responses take.
    delay = max(1.0, 1000 * conns / target)
    for _ in range(2):
        probe = transitions(API_TRANSITION, 4, PACED_LUA, int(delay))
        delay = max(1.0, delay + 1000 * conns * (1 / target - 1 / probe["rps"]))
    paced = [
        transitions(API_TRANSITION, args.write_duration, PACED_LUA, int(delay))
        for _ in range(args.runs)
    ]
    results["P4"] = {
        "api_rps_runs": [round(r["rps"]) for r in api_runs],
        "limit_rps_runs": [round(r["rps"]) for r in limit_runs],
        "api_rps": round(api_rps),
        "limit_rps": round(median(limit_runs, "rps")),
        "ratio": round(api_rps / median(limit_runs, "rps"), 3),
        "api_p50_ms": round(median(api_runs, "p50_ms"), 1),
        "api_p99_ms": round(median(api_runs, "p99_ms"), 1),
        "api_p99_ms_runs": [round(r["p99_ms"], 1) for r in api_runs],
        "limit_p50_ms": round(median(limit_runs, "p50_ms"), 1),
        "limit_p99_ms": round(median(limit_runs, "p99_ms"), 1),
        "limit_p99_ms_runs": [round(r["p99_ms"], 1) for r in limit_runs],
        "paced_target_rps": round(target),
        "paced_delay_ms": int(delay),
        "paced_rps": round(median(paced, "rps")),
        "paced_p50_ms": round(median(paced, "p50_ms"), 2),
        "paced_p99_ms": round(median(paced, "p99_ms"), 2),
        "paced_p99_ms_runs": [round(r["p99_ms"], 1) for r in paced],
        "errors": sum(r["errors"] for r in api_runs + limit_runs + paced),
    }
    log(f"P4 {results['P4']}")
    p5 = wrk(
        "/api/v1/cases/",
        token,
        seconds=args.write_duration,
        connections=args.write_connections,
        threads=2,
        script=SUBMIT_LUA,
        base=base,
    )
    results["P5"] = {k: round(v, 2) for k, v in p5.items()}
    log(f"P5 {p5['rps']:.0f}/s p99 {p5['p99_ms']:.1f} ms errors {p5['errors']}")
    return results


def paced_runs(
    path: str, token: str, target: float, args: argparse.Namespace
) -> tuple[list[dict], int]:
    """Runs at about ``target`` requests/s: wrk is closed-loop, so each of ``PACED_CONNECTIONS``
    connections waits ``delay`` ms after each response; one short calibration run corrects the
    delay for the time the responses themselves take."""
    conns = PACED_CONNECTIONS
    delay = max(1.0, 1000 * conns / target)
    for _ in range(2):
        probe = wrk(
            path,
            token,
            seconds=4,
            connections=conns,
            script=PACED_LUA,
            env={"BENCH_DELAY_MS": str(int(delay))},
        )
        delay = max(1.0, delay + 1000 * conns * (1 / target - 1 / probe["rps"]))
    runs = [
        wrk(
            path,
            token,
            seconds=args.duration,
            connections=conns,
            script=PACED_LUA,
            env={"BENCH_DELAY_MS": str(int(delay))},
        )
        for _ in range(args.runs)
    ]
    return runs, int(delay)


def p7(targets: list[tuple[str, str, str]], args: argparse.Namespace) -> list[dict]:
    """p50 of the case read at a fixed, moderate rate (about 100/s: 4 connections, 40 ms pace)
    for each (path, token, base), the targets' runs interleaved."""
    for path, token, base in targets:
        wrk(path, token, seconds=2, connections=4, base=base)
    runs: list[list[dict]] = [[] for _ in targets]
    for _ in range(args.runs):
        for i, (path, token, base) in enumerate(targets):
            runs[i].append(
                wrk(
                    path,
                    token,
                    seconds=args.duration,
                    connections=4,
                    script=PACED_LUA,
                    env={"BENCH_DELAY_MS": "40"},
                    base=base,
                )
            )
    return [
        {
            "p50_ms": round(median(r, "p50_ms"), 2),
            "p50_ms_runs": [round(x["p50_ms"], 2) for x in r],
            "p99_ms": round(median(r, "p99_ms"), 2),
            "rps": round(median(r, "rps")),
        }
        for r in runs
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per read run")
    parser.add_argument("--write-duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--write-connections", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument(
        "--waits", action="store_true", help="sample pg_stat_activity during the P4 runs"
    )
    parser.add_argument("--reads-only", action="store_true", help="P3 only, on the small database")
    parser.add_argument(
        "--writes-only",
        action="store_true",
        help="P4, P4' and P5 only, on the large database (the small one with --skip-large)",
    )
    args = parser.parse_args()
    if args.small < 1000:
        parser.error("--small must be at least 1000 (P4 moves the seeded cases)")
    if args.skip_large and args.small < 50_000:
        log("with --skip-large, P4 moves the small database's cases: --small 100000 or more")
    results = run(args)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

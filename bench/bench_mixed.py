"""A mixed load on 1,000,000 cases (issue 14): status lookups 70%, case reads 20%, transitions 8%,
submissions 2%, with a Celery worker delivering the notifications and beat ticking the SLA scan
every minute, all at once; throughput, p50 and p99 per kind, and the errors, from one run.

    .venv/bin/python bench/bench_mixed.py [--rate 150] [--duration 150] [--cases 1000000]

Seeds ``<BENCH_DB_PREFIX>_api_mixed`` as bench/bench_api.py seeds its databases (every case applied
at 440300, the caseworker's JWT), starts gunicorn (4 sync workers, DEBUG off, persistent
connections, throttles lifted), one Celery worker (prefork, 1 process) and beat (the project's
schedule: the SLA scan and the notification sweep every 60 s), on Redis ``BENCH_REDIS_URL``
(default database 13, flushed before and after). Then four wrk processes run side by side for
``--duration`` seconds, one per kind, each paced (wrk's ``delay()``) at its share of ``--rate``:

- status: ``POST /api/v1/status-lookup/`` (anonymous, reference + ID suffix) of a random case;
- read: ``GET /api/v1/cases/{reference}/`` of a random case, with the caseworker's token;
- transition: ``POST .../transitions/approve_transfer_out/``, each on another applied case;
- submission: ``POST /api/v1/cases/``, each with another valid ID number.

Prints a JSON summary; the figures and the scan ticks seen in the worker's log go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bench.bench_api import (
    API_TRANSITION,
    DB_PREFIX,
    PORT,
    ROOT,
    SUBMIT_LUA,
    TRANSITION_LUA,
    CaseBlocks,
    Server,
    fetch,
    log,
    seed,
    server_env,
    wrk,
)

DB = f"{DB_PREFIX}_api_mixed"
SUFFIX = "31002X"  # bench/_api_seed.py: every seeded case carries this ID number's suffix
SHARES = {"status": 0.70, "read": 0.20, "transition": 0.08, "submission": 0.02}
CONNECTIONS = {"status": 8, "read": 4, "transition": 2, "submission": 1}

PACED_LUA = """
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
function delay() return pause end
"""

RANDOM_LUA = """
local prefix = os.getenv("BENCH_PREFIX")
local cases = tonumber(os.getenv("BENCH_CASES"))
local kind = os.getenv("BENCH_KIND")
local suffix = os.getenv("BENCH_SUFFIX")
local seeded = 0
function setup(thread)
  seeded = seeded + 1
  thread:set("seed", seeded)
end
function init(args)
  math.randomseed(os.time() * 100 + seed)
end
function request()
  local ref = string.format("%s%08d", prefix, math.random(1, cases - 1))
  if kind == "status" then
    return wrk.format("POST", "/api/v1/status-lookup/", nil,
      string.format('{"reference": "%s", "id_number_suffix": "%s"}', ref, suffix))
  end
  return wrk.format("GET", "/api/v1/cases/" .. ref .. "/")
end
"""


class Celery:
    """A worker and beat for the run, their logs in a temporary folder."""

    def __init__(self, env: dict[str, str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench_mixed_"))
        celery = str(Path(sys.executable).with_name("celery"))
        common = {"cwd": ROOT, "env": env, "stderr": subprocess.STDOUT}
        self.worker_log = (self.dir / "worker.log").open("w")
        self.worker = subprocess.Popen(  # noqa: S603 - fixed command line
            [
                *(celery, "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1"),
                *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
            ],
            stdout=self.worker_log,
            **common,
        )
        self.beat_log = (self.dir / "beat.log").open("w")
        self.beat = subprocess.Popen(  # noqa: S603 - fixed command line
            [
                *(celery, "-A", "config", "beat", "--loglevel", "INFO"),
                *("--schedule", str(self.dir / "beat-schedule")),
            ],
            stdout=self.beat_log,
            **common,
        )

    def wait_ready(self) -> None:
        for _ in range(120):
            if "ready." in (self.dir / "worker.log").read_text():
                return
            time.sleep(0.5)
        raise RuntimeError(f"the Celery worker did not start (see {self.dir})")

    def scan_ticks(self) -> int:
        lines = (self.dir / "worker.log").read_text().splitlines()
        return sum(1 for line in lines if "cases.tasks.sla_scan[" in line and "succeeded" in line)

    def stop(self) -> None:
        for proc in (self.beat, self.worker):
            proc.terminate()
            proc.wait(timeout=60)


def _broker() -> redis.Redis:
    return redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))


def run(args: argparse.Namespace) -> dict:
    # The bench's own Redis database: delivery tasks another bench left queued (bench_api.py runs
    # no worker) would otherwise be worked off first, ahead of this run's scan ticks.
    _broker().flushdb()
    seeded = seed(args.cases, DB)
    env = server_env(
        DB,
        {
            "SMS_FILE_PATH": os.devnull,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
        },
    )
    body_file = Path(tempfile.gettempdir()) / f"{DB_PREFIX}_api_body.json"
    server = Server(args.workers, DB, PORT, {"BENCH_BARE_BODY": str(body_file)})
    workers = Celery({**env, "LOG_LEVEL": "INFO"})
    results: dict = {"rate_target": args.rate, "duration_s": args.duration, "cases": args.cases}
    try:
        token = seeded["token"]
        workers.wait_ready()
        # The API answers before the load starts.
        fetch(f"/api/v1/cases/{seeded['prefix']}{args.cases - 1:08d}/", token)
        blocks = CaseBlocks(seeded["cases"], 1, 2)
        runs: dict[str, dict] = {}

        def one(kind: str) -> None:
            rate = args.rate * SHARES[kind]
            conns = CONNECTIONS[kind]
            delay = max(1, int(1000 * conns / rate))
            kind_env = {"BENCH_DELAY_MS": str(delay), "BENCH_KIND": kind}
            if kind in ("status", "read"):
                script = RANDOM_LUA
                kind_env.update(
                    BENCH_PREFIX=seeded["prefix"],
                    BENCH_CASES=str(seeded["cases"]),
                    BENCH_SUFFIX=SUFFIX,
                )
            elif kind == "transition":
                script = TRANSITION_LUA
                kind_env.update(blocks.env(API_TRANSITION, seeded["prefix"]))
            else:
                script = SUBMIT_LUA
            runs[kind] = wrk(
                "/api/v1/cases/",
                token if kind != "status" else "",
                seconds=args.duration,
                connections=conns,
                threads=min(2, conns),
                script=script + PACED_LUA,
                env=kind_env,
            )

        threads = [threading.Thread(target=one, args=(kind,)) for kind in SHARES]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for kind, r in runs.items():
            results[kind] = {
                "rps": round(r["rps"], 1),
                "p50_ms": round(r["p50_ms"], 1),
                "p99_ms": round(r["p99_ms"], 1),
                "requests": r["requests"],
                "errors": r["errors"],
            }
            log(f"{kind}: {results[kind]}")
        results["total_rps"] = round(sum(r["rps"] for r in runs.values()), 1)
        results["errors"] = sum(r["errors"] for r in runs.values())
        results["sla_scan_ticks"] = workers.scan_ticks()
        log(
            f"total {results['total_rps']}/s, errors {results['errors']}, scan ticks "
            f"{results['sla_scan_ticks']} (logs in {workers.dir})"
        )
    finally:
        workers.stop()
        server.stop()
        _broker().flushdb()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=150.0, help="requests/s, all kinds")
    parser.add_argument("--duration", type=int, default=150, help="seconds (>= 120: two ticks)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()

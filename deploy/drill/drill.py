"""The scale-out drill (`make drill`): several processes on one PostgreSQL and one Redis, under load,
while a worker and a beat are killed and Redis is stopped for a minute. Then checks, from the
database and from the delivery logs, that nothing was lost, duplicated or left pending.

What it starts, all on this machine, in a scratch directory (deleted afterwards unless --keep):

- its own PostgreSQL cluster (initdb, default durability settings) and its own redis-server (append
  only file, like deploy/compose.yaml), on free ports: shared servers are never touched;
- two gunicorn instances (2 sync workers each), three Celery workers, two Celery beats (production
  settings, so celery-redbeat's lock decides which beat sends);
- a load generator: threads driving cases through the API, round-robin over both gunicorns, each
  case through every stage (submit, request materials and resubmit for some, approve transfer out,
  confirm transfer in, credit the balance; a reject for some), at a steady pace;
- two cohorts of cases submitted (through the service) a month in the past, whose stage clocks are
  already due-soon, overdue and past escalation: the beat's SLA scan claims them and their reminders
  go out by email (Django's file backend) and in-app; status changes go out by SMS (the file gateway).

The faults, relative to the start of the load: SIGKILL a worker at 15 s (restarted at 30 s); SIGKILL
the beat that holds the lock at 40 s (restarted at 70 s, the other takes over); the second overdue
cohort at 45 s; Redis stopped at 60 s and started again at 120 s.

The checks, when everything has drained (nothing pending, queue empty):

- no lost transition: every case's events are exactly the actions the API acknowledged, in order;
- no event without its state: each event starts where the previous ended, the last ends in the
  case's state, and the case has an open stage clock exactly when it is open;
- every due reminder delivered exactly once: every overdue clock of the cohorts is flagged and has its
  reminders; every email and SMS row is in the delivery logs exactly once (0 lost, 0 duplicates);
- nothing pending: no notification pending or failed, the Celery queue empty.

The programs it runs against the database (the accounts, the cohorts, the drained test and the
checks) are modules next to this file, each run as a script in a child process: see
``Cluster.run_program`` and ``deploy/drill/__init__.py``.

Usage: ``make drill`` or ``.venv/bin/python deploy/drill/drill.py [--cases 3000] [--rate 20]``.
Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

DRILL_DIR = Path(__file__).resolve().parent
ROOT = DRILL_DIR.parents[1]
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "drill-password-Aa1!"  # noqa: S105 - accounts of a throwaway database
STATE_OF_ACTION = {
    "submit": "applied",
    "request_materials": "materials_requested",
    "resubmit_materials": "applied",
    "approve_transfer_out": "transfer_out_approved",
    "confirm_transfer_in": "transfer_in_confirmed",
    "move_balance": "balance_moved",
    "reject": "rejected",
}


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- processes -------------------------------------------------------------------------------------


class Process:
    """A child process with its own log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log_path = logdir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        log_file = self.log_path.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - our own argv
            self.argv, cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
        )
        return self

    def signal(self, sig: int) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL the process and its children (a Celery worker's pool, gunicorn's workers)."""
        if not self.popen:
            return
        children = subprocess.run(  # noqa: S603
            ["pgrep", "-P", str(self.popen.pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        self.signal(signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 20) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class Cluster:
    """The throwaway PostgreSQL and Redis, and the app's processes."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True)
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.web_ports = [free_port(), free_port()]
        self.mail_dir = workdir / "mail"
        self.sms_file = workdir / "sms.jsonl"
        self.redis: Process | None = None
        self.processes: dict[str, Process] = {}
        # Killed on purpose and not yet restarted: the supervisor leaves these alone.
        self.held_down: set[str] = set()
        self.restarts: collections.Counter[str] = collections.Counter()
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.env = {
            **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/yibao",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "ID_NUMBER_KEYS": key,
            "ID_NUMBER_DIGEST_KEY": secrets.token_hex(32),
            "PUBLIC_BASE_URL": "https://yibao.example.org",
            "CONN_MAX_AGE": "60",
            "SECURE_SSL_REDIRECT": "false",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
            "JWT_ACCESS_MINUTES": "120",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "SMS_BACKEND": "notifications.sms.FileSmsGateway",
            "SMS_FILE_PATH": str(self.sms_file),
            # Recovery within the drill's few minutes: the sweeper (every minute) re-queues rows
            # pending for 30 s, and a dead beat's lock runs out after 30 s.
            "NOTIFICATION_SWEEP_AFTER_SECONDS": "30",
            "REDBEAT_LOCK_TIMEOUT": "30",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }

    # PostgreSQL
    def pg_start(self) -> None:
        data = self.workdir / "pg"
        if self.run_as:
            shutil.chown(self.workdir, "postgres")
        subprocess.run(  # noqa: S603
            [
                *self.run_as,
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            check=True,
            capture_output=True,
        )
        self.pg_ctl("start", "-w", "-t", "60", "-l", str(self.workdir / "pg.log"), "-o",
                    f"-p {self.pg_port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                    "-c max_connections=200 -c shared_buffers=256MB")  # fmt: skip
        subprocess.run(  # noqa: S603
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "yibao",
            ],
            check=True,
        )

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [*self.run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.workdir / "pg"), *args],
            check=True,
            capture_output=True,
        )

    # Redis
    def redis_start(self) -> None:
        self.redis = Process(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.workdir),
                "--maxmemory-policy",
                "noeviction",
            ],
            self.env,
            self.logs,
        ).start()
        self.wait_for(self.redis_ping, "redis")

    def redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def redis_command(self, *args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.redis_port), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    # the app
    def manage(self, *args: str) -> str:
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def run_program(self, name: str, *args: str) -> str:
        """Run the drill's program ``deploy/drill/<name>.py`` with ``args`` against this cluster and
        return its stdout: ``python deploy/drill/<name>.py *args`` from the project root, with the
        cluster's environment, ``DJANGO_SETTINGS_MODULE`` and the project root on ``PYTHONPATH``
        (a script's own directory, not the working directory, is first on its ``sys.path``)."""
        program = DRILL_DIR / f"{name}.py"
        if not program.is_file():
            raise ValueError(f"no drill program {program}")
        return subprocess.run(  # noqa: S603 - our own program
            [sys.executable, str(program), *args],
            cwd=ROOT,
            env={**self.env, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def add(self, name: str, argv: list[str]) -> Process:
        process = Process(name, argv, self.env, self.logs).start()
        self.processes[name] = process
        return process

    def web(self, index: int) -> Process:
        return self.add(
            f"web{index}",
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--config",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.web_ports[index]}",
                "--workers",
                "2",
            ],
        )

    def worker(self, index: int) -> Process:
        return self.add(
            f"worker{index}",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                f"worker{index}@drill",
            ],
        )

    def beat(self, index: int) -> Process:
        return self.add(f"beat{index}", [str(BIN / "celery"), "-A", "config", "beat", "-l", "INFO"])

    def supervise(self, stop: threading.Event, mark: Callable[[str], None]) -> None:
        """Restart an app process that exited by itself 5 s later, as systemd (Restart=always,
        RestartSec=5) or Kubernetes would. Logs the first restart of a process, counts the rest."""
        while not stop.wait(5.0):
            for name, process in list(self.processes.items()):
                if name in self.held_down or not process.popen:
                    continue
                code = process.popen.poll()
                if code is not None:
                    if name not in self.restarts:
                        mark(f"supervisor: {name} exited with {code}; restarting it every 5 s")
                    self.restarts[name] += 1
                    process.start()

    @staticmethod
    def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.2)

    def web_ready(self, port: int) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def shutdown(self) -> None:
        for process in self.processes.values():
            process.stop()
        if self.redis:
            self.redis.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "fast", "-w")


# --- load ------------------------------------------------------------------------------------------


@dataclass
class Load:
    """What the load generator did and saw."""

    latencies: list[float] = field(default_factory=list)
    outage_latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # reference -> actions
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    unanswered: int = 0
    completed: int = 0
    requests: int = 0
    duration: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def id_number(n: int) -> str:
    from core.identity import id_number_check_char

    # Unique for any 7,000 consecutive n (n mod 1000 and n mod 28 fix n mod 7000); born 1975-1999.
    first17 = f"110105{1975 + n % 25}{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def case_plan(n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The actions of case ``n`` after its submission: (action, who, body)."""
    approve = (
        "approve_transfer_out",
        "cw_out",
        {"contribution_months": 60, "personal_account_balance": "1234.56"},
    )
    rest = [
        approve,
        ("confirm_transfer_in", "cw_in", {}),
        ("move_balance", "cw_in", {"amount": "1234.56"}),
    ]
    if n % 10 == 0:
        return [("reject", "cw_out", {"reason_code": "arrears"})]
    if n % 7 == 0:
        return [
            ("request_materials", "cw_out", {"missing_materials": ["离职证明"]}),
            ("resubmit_materials", "cw_out", {}),
            *rest,
        ]
    return rest


def run_load(
    urls: list[str], tokens: dict[str, str], cases: int, rate: float, threads: int,
    in_outage: Callable[[], bool], id_base: int,
) -> Load:  # fmt: skip
    load = Load()
    start = time.monotonic()
    counter = iter(range(cases))
    counter_lock = threading.Lock()

    def call(session: requests.Session, n: int, method: str, path: str, who: str, body: Any) -> Any:
        url = urls[(n + load.requests) % len(urls)] + path
        t0 = time.monotonic()
        try:
            response = session.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {tokens[who]}", "Accept-Language": "en"},
                timeout=60,
            )
        except requests.RequestException as exc:
            with load.lock:
                load.unanswered += 1
                load.errors[type(exc).__name__] += 1
            return None
        elapsed = time.monotonic() - t0
        with load.lock:
            load.requests += 1
            load.latencies.append(elapsed)
            if in_outage():
                load.outage_latencies.append(elapsed)
            if response.status_code >= 300:
                load.errors[f"HTTP {response.status_code} {method} {path.split('/')[-2]}"] += 1
        return response if response.status_code < 300 else None

    def one_case(session: requests.Session, n: int) -> None:
        body = {
            "insurance_type": "employee",
            "from_agency": "440300",
            "to_agency": "430100",
            "channel": "window",
            "applicant": {
                "name": "赵六",
                "id_number": id_number(id_base + n),
                "phone": "13800138000",
            },
            "stopped_at_source_on": "2026-10-31",
            "enrolled_at_target_on": "2026-11-01",
        }
        response = call(session, n, "POST", "/api/v1/cases/", "cw_out", body)
        if response is None:
            return
        reference = response.json()["reference"]
        done = ["submit"]
        for action, who, payload in case_plan(n):
            path = f"/api/v1/cases/{reference}/transitions/{action}/"
            if call(session, n, "POST", path, who, payload) is None:
                break
            done.append(action)
        with load.lock:
            load.acknowledged[reference] = done
            load.completed += 1

    def worker() -> None:
        session = requests.Session()
        while True:
            with counter_lock:
                n = next(counter, None)
            if n is None:
                return
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            one_case(session, n)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    load.duration = time.monotonic() - start
    return load


# --- checks ----------------------------------------------------------------------------------------

# What the database says is read by deploy/drill/check.py (``Cluster.run_program("check", ...)``);
# what was actually delivered, from the email backend's files and the SMS gateway's log, here.


def deliveries(cluster: Cluster) -> collections.Counter[str]:
    """Dedup keys of what the email backend wrote and the SMS gateway logged."""
    seen: collections.Counter[str] = collections.Counter()
    if cluster.mail_dir.is_dir():
        for path in cluster.mail_dir.iterdir():
            text = path.read_text(encoding="utf-8", errors="replace")
            seen.update(re.findall(r"^X-Notification-Key: (\S+)$", text, flags=re.M))
    if cluster.sms_file.exists():
        for line in cluster.sms_file.read_text(encoding="utf-8").splitlines():
            seen[json.loads(line)["key"]] += 1
    return seen


# --- the drill -------------------------------------------------------------------------------------


def drill(args: argparse.Namespace, workdir: Path) -> int:
    cluster = Cluster(workdir)
    events: list[str] = []

    def mark(what: str) -> None:
        events.append(f"{time.monotonic() - t_load:7.1f}s {what}")
        log(what)

    try:
        log(f"PostgreSQL on {cluster.pg_port}, Redis on {cluster.redis_port}, in {workdir}")
        cluster.pg_start()
        cluster.redis_start()
        cluster.manage("migrate", "--noinput")
        cluster.manage("load_agencies")
        cluster.run_program("setup_data", PASSWORD)
        for i in range(2):
            cluster.web(i)
        for i in range(3):
            cluster.worker(i)
        for i in range(2):
            cluster.beat(i)
        for port in cluster.web_ports:
            cluster.wait_for(lambda p=port: cluster.web_ready(p), f"gunicorn on {port}")
        urls = [f"http://127.0.0.1:{p}" for p in cluster.web_ports]
        tokens = {}
        for who in ("cw_out", "cw_in"):
            r = requests.post(
                urls[0] + "/api/v1/auth/token/",
                json={"username": who, "password": PASSWORD},
                timeout=10,
            )
            r.raise_for_status()
            tokens[who] = r.json()["access"]
        cohort_size = args.cohort
        log(f"overdue cohort A: {cohort_size} cases submitted 30 days ago")
        cluster.run_program("cohort", "1", str(cohort_size))

        outage = threading.Event()
        t_load = time.monotonic()

        def faults() -> None:
            def at(seconds: float) -> None:
                time.sleep(max(0.0, t_load + seconds - time.monotonic()))

            at(15)
            cluster.held_down.add("worker0")
            cluster.processes["worker0"].kill()
            mark("SIGKILL worker0 (and its pool)")
            at(30)
            cluster.worker(0)
            cluster.held_down.discard("worker0")
            mark("worker0 restarted")
            at(40)
            leader = next(
                (
                    n
                    for n in ("beat0", "beat1")
                    if "Acquired lock" in cluster.processes[n].log_text()
                ),
                "beat0",
            )
            cluster.held_down.add(leader)
            cluster.processes[leader].kill()
            mark(f"SIGKILL {leader} (the beat holding the redbeat lock)")
            at(45)

            def cohort_b() -> None:
                cluster.run_program("cohort", "2", str(cohort_size))
                mark(f"overdue cohort B: {cohort_size} more cases submitted 30 days ago")

            cohort = threading.Thread(target=cohort_b, daemon=True)
            cohort.start()
            at(60)
            outage.set()
            cluster.redis.stop()
            stopped = time.monotonic()
            mark("Redis stopped")
            at(70)
            cluster.beat(int(leader[-1]))
            cluster.held_down.discard(leader)
            mark(f"{leader} restarted (stands by)")
            time.sleep(max(0.0, stopped + 60 - time.monotonic()))
            cluster.redis_start()
            outage.clear()
            mark(f"Redis started again after {time.monotonic() - stopped:.0f} s")
            cohort.join()

        fault_thread = threading.Thread(target=faults, daemon=True)
        fault_thread.start()
        stop_supervisor = threading.Event()
        threading.Thread(
            target=cluster.supervise, args=(stop_supervisor, mark), daemon=True
        ).start()
        log(f"load: {args.cases} cases at {args.rate}/s over {len(urls)} gunicorns")
        load = run_load(
            urls,
            tokens,
            args.cases,
            args.rate,
            args.threads,
            outage.is_set,
            0,
        )
        mark(f"load finished: {load.completed} cases, {load.requests} requests")
        fault_thread.join()

        log("waiting for every notification to be delivered and the queue to drain")
        t_drain = time.monotonic()
        drained = False
        while time.monotonic() - t_drain < args.drain_timeout:
            state = json.loads(cluster.run_program("drained"))
            queue = int(cluster.redis_command("LLEN", "celery") or 0)
            if state == [0, 0] and queue == 0:
                drained = True
                break
            time.sleep(5)
        mark(f"drained={drained} after {time.monotonic() - t_drain:.0f}s")
        stop_supervisor.set()

        ack_file = workdir / "acknowledged.json"
        ack_file.write_text(json.dumps(load.acknowledged))
        cohort_file = workdir / "cohort.json"
        cohort_refs = cluster.run_program("cohort_refs")
        cohort_file.write_text(cohort_refs)
        result = json.loads(cluster.run_program("check", str(ack_file), str(cohort_file)))
        delivered = deliveries(cluster)
        rows = result.pop("rows")
        external = {d: (k, c, s) for d, k, c, s in rows if c in ("email", "sms")}
        lost = [d for d, (_, _, s) in external.items() if s == "sent" and delivered[d] == 0]
        duplicates = [d for d, n in delivered.items() if n > 1]
        unknown = [d for d in delivered if d not in external]
        not_sent = [d for d, k, c, s in rows if s != "sent"]
        reminders = [d for d, k, c, s in rows if k in ("overdue", "due_soon", "escalation")]
        cases_per_s = load.completed / load.duration
        figures = {
            "cases driven through the API": load.completed,
            "requests": load.requests,
            "load duration (s)": round(load.duration, 1),
            "cases/s": round(cases_per_s, 1),
            "requests/s": round(load.requests / load.duration, 1),
            "latency p50 (ms)": round(percentile(load.latencies, 50) * 1000, 1),
            "latency p99 (ms)": round(percentile(load.latencies, 99) * 1000, 1),
            "latency p99 while Redis was down (ms)": round(
                percentile(load.outage_latencies, 99) * 1000, 1
            ),
            "requests while Redis was down": len(load.outage_latencies),
            "API errors (non-2xx)": sum(load.errors.values()),
            "API errors by kind": dict(load.errors),
            "overdue cohort cases": 2 * cohort_size,
            "cohort clocks flagged overdue": result["cohort_clocks"] - result["cohort_unflagged"],
            "reminder notifications (due soon, overdue, escalation)": len(reminders),
            "notifications": len(rows),
            "emails + SMS delivered (log lines)": sum(delivered.values()),
            "duplicates": len(duplicates),
            "lost (sent row, no delivery)": len(lost),
            "deliveries without a row": len(unknown),
            "notifications not sent (pending/failed)": len(not_sent),
            "Celery queue length at the end": int(cluster.redis_command("LLEN", "celery") or 0),
            "lost transitions": len(result["lost_transitions"]),
            "events the API did not acknowledge": len(result["unacknowledged_events"]),
            "events disagreeing with the case state": len(result["event_state_mismatch"]),
            "cases whose open clocks disagree with the state": len(result["clock_mismatch"]),
            "restarts by the supervisor": dict(cluster.restarts),
            "cases in the database": result["cases"],
            "events in the database": result["events"],
        }
        checks = {
            "drained": drained,
            "no API errors": not load.errors and load.unanswered == 0,
            "no lost transition": not result["lost_transitions"],
            "no event without its state": not result["event_state_mismatch"]
            and not result["clock_mismatch"],
            "every due reminder delivered exactly once": result["cohort_unflagged"] == 0
            and result["cohort_clocks_without_overdue_reminder"] == 0
            and not lost
            and not duplicates
            and not unknown,
            "nothing pending": not not_sent and figures["Celery queue length at the end"] == 0,
        }
        report = {"figures": figures, "checks": checks, "timeline": events}
        (workdir / "result.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print()
        print("=" * 72)
        for name, value in figures.items():
            print(f"  {name:<55} {value}")
        print("-" * 72)
        for line in events:
            print(f"  {line}")
        print("-" * 72)
        for name, ok in checks.items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")
        print("=" * 72)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
        return 0 if all(checks.values()) else 1
    finally:
        cluster.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=3000, help="cases driven through the API")
    parser.add_argument("--rate", type=float, default=20.0, help="cases started per second")
    parser.add_argument("--threads", type=int, default=24, help="load generator threads")
    parser.add_argument("--cohort", type=int, default=200, help="overdue cases per cohort (2)")
    parser.add_argument("--drain-timeout", type=float, default=400.0)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="yibao-drill-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - the postgres user runs the cluster inside
    try:
        return drill(args, workdir)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

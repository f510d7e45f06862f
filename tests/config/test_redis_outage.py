"""Workers and beat ride out a Redis outage (issue 13 item 13; docs/decisions/0007).

Each test has a redis-server of its own on a free port, stopped and started again on the same port
(the shared test Redis is never stopped). Restarted without persistence, as a fail-over to an empty
replica would leave it: the beat lock and the schedule are gone when it comes back.

- The broker transport (config/broker.py): the state a worker is in when Redis dies under it with
  an unacknowledged message, rebuilt step by step; kombu's transport raises the AttributeError
  that kills the worker, ours closes and leaves the message in Redis to come back.
- The beat scheduler (config/beat.py), in this process with a Celery app of its own: ticks while
  Redis is away, a scheduler built while Redis is away, the lock lost and taken over, the schedule
  put back, exactly one sender.
- ``celery beat`` itself, production settings, started while Redis is down.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from cryptography.fernet import Fernet
from kombu import Connection, Producer, Queue

from config.beat import ResilientRedBeatScheduler

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class ScratchRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, decode_responses=True)

    def up(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.up, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def scratch_redis(tmp_path: Path) -> Iterator[ScratchRedis]:
    server = ScratchRedis(tmp_path)
    server.start()
    yield server
    server.stop()


# --- the broker transport ---------------------------------------------------------------------


def _close_after_collect(url: str, transport: str | None) -> Exception | None:
    """The consumer's connection-loss handling, on a connection holding one unacknowledged
    message: ``Connection.collect()`` detached the transport (``client = None``) before the
    channel finished closing, then ``connection.close()`` closes the channel again."""
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    queue = Queue("outage-probe", channel=channel)
    queue.declare()
    Producer(channel).publish({"n": 1}, routing_key="outage-probe")
    assert queue.get(no_ack=False) is not None
    assert len(channel.qos._delivered) == 1
    connection._do_close_transport()
    try:
        connection.close()
    except Exception as exc:
        return exc
    return None


def test_kombus_transport_dies_where_the_worker_died(scratch_redis: ScratchRedis) -> None:
    # The upstream failure (kombu 5.7.0): if this stops raising, kombu fixed it and the guard in
    # config/broker.py can go (the decision record says so).
    escaped = _close_after_collect(scratch_redis.url, transport=None)
    assert isinstance(escaped, AttributeError)
    assert "hostname" in str(escaped)


def test_our_transport_closes_and_keeps_the_message(scratch_redis: ScratchRedis) -> None:
    assert _close_after_collect(scratch_redis.url, transport="config.broker:Transport") is None
    # Not lost: still in the transport's unacknowledged hash, restored after the visibility timeout.
    assert scratch_redis.client().hlen("unacked") == 1


def test_the_worker_uses_our_transport() -> None:
    from django.conf import settings

    from config.broker import Transport
    from config.celery import app

    assert settings.CELERY_BROKER_TRANSPORT == "config.broker:Transport"
    assert app.connection_for_write().get_transport_cls() is Transport


# --- the beat scheduler, in this process ------------------------------------------------------


@pytest.fixture
def beat_app(scratch_redis: ScratchRedis) -> Celery:
    app = Celery("outage-probe", set_as_current=False)
    app.conf.update(
        broker_url=scratch_redis.url,
        broker_transport="config.broker:Transport",
        broker_connection_retry=False,
        broker_transport_options={"socket_connect_timeout": 1},
        redbeat_redis_url=scratch_redis.url,
        redbeat_redis_options={"socket_connect_timeout": 1, "socket_timeout": 2},
        redbeat_lock_timeout=6,
        beat_schedule={"probe": {"task": "outage.probe", "schedule": 1.0}},
        task_publish_retry=False,
    )
    return app


def _sent(server: ScratchRedis) -> int:
    return int(server.client().llen("celery"))


def _holder(server: ScratchRedis) -> str | None:
    return server.client().get("redbeat::lock")


def _token(scheduler: ResilientRedBeatScheduler) -> str | None:
    if scheduler.lock is None:
        return None
    token = scheduler.lock.local.token
    return token.decode() if isinstance(token, bytes) else token


def test_the_scheduler_rides_out_an_outage(scratch_redis: ScratchRedis, beat_app: Celery) -> None:
    first = ResilientRedBeatScheduler(app=beat_app)
    second = ResilientRedBeatScheduler(app=beat_app)
    assert first.retry_interval == 1.0  # a sixth of the 6 s lock timeout
    # A tick never sleeps past a third of the lock timeout, so a live leader keeps its lock.
    assert first.tick() <= 2.0
    assert _token(first) is not None
    assert _holder(scratch_redis) == _token(first)
    assert second.tick() == second.retry_interval
    assert second.lock is None
    time.sleep(1.1)
    first.tick()
    sent_before = _sent(scratch_redis)
    assert sent_before >= 1  # the leader sends

    scratch_redis.stop()
    # Ticks while Redis is away: no exception, a short pause, nothing sent.
    assert first.tick() == first.retry_interval
    assert second.tick() == second.retry_interval
    # A scheduler built while Redis is away waits for it instead of raising.
    built: list[ResilientRedBeatScheduler] = []
    builder = threading.Thread(target=lambda: built.append(ResilientRedBeatScheduler(app=beat_app)))
    builder.start()
    time.sleep(1.5)
    assert builder.is_alive()
    assert not built
    scratch_redis.start()  # empty: the lock and the schedule are gone
    builder.join(timeout=30)
    third = built[0]

    # The old leader cannot extend a lock that is gone: it stands down.
    assert first.tick() == first.retry_interval
    assert first.lock is None
    # Someone takes the lock and puts the schedule back; only the holder sends.
    for _ in range(3):
        for scheduler in (second, third, first):
            scheduler.tick()
        time.sleep(1.1)
    holders = [s for s in (first, second, third) if s.lock is not None]
    assert len(holders) == 1
    assert _holder(scratch_redis) == _token(holders[0])
    entries = scratch_redis.client().zrange(beat_app.redbeat_conf.schedule_key, 0, -1)
    assert "redbeat:probe" in entries
    sent_after = _sent(scratch_redis)  # counted from zero: Redis came back empty
    assert 1 <= sent_after <= 4  # one sender, once a second over about three seconds

    scratch_redis.stop()
    for scheduler in (first, second, third):
        scheduler.close()  # no exception: the lock runs out by itself
        assert scheduler.lock is None


# --- celery beat, the process -----------------------------------------------------------------


def _production_env(redis_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **base,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "REDIS_URL": redis_url,
        "ID_NUMBER_KEYS": Fernet.generate_key().decode(),
        "ID_NUMBER_DIGEST_KEY": "digest-key-for-the-test",
        "PUBLIC_BASE_URL": "https://yibao.example.org",
        "REDBEAT_LOCK_TIMEOUT": "6",
        "PYTHONUNBUFFERED": "1",
    }


def test_celery_beat_started_while_redis_is_down_waits(tmp_path: Path) -> None:
    server = ScratchRedis(tmp_path)
    log = tmp_path / "beat.log"
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO"],
        cwd=ROOT,
        env=_production_env(server.url),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "unreachable at start-up" in log.read_text(), "the start-up warning")
        time.sleep(2)
        assert beat.poll() is None, log.read_text()[-3000:]
        server.start()
        wait_for(lambda: _holder(server) is not None, "beat to take the lock", timeout=60)
        # The holder writes the schedule (config/celery.py) entry by entry after taking the lock.
        wait_for(
            lambda: server.client().zcard("redbeat::schedule") >= 4, "the schedule", timeout=30
        )

        server.stop()  # the leader loses Redis
        # Generous: the warning comes when the tick in flight gives up on Redis (slow when loaded).
        wait_for(lambda: "Redis unreachable (" in log.read_text(), "the tick warning", timeout=90)
        time.sleep(2)
        assert beat.poll() is None, log.read_text()[-3000:]
        server.start()
        wait_for(lambda: _holder(server) is not None, "beat to take the lock again", timeout=60)
        wait_for(
            lambda: server.client().zcard("redbeat::schedule") >= 4,
            "the schedule put back",
            timeout=30,
        )
        assert beat.poll() is None
        assert "CRITICAL" not in log.read_text()
    finally:
        beat.send_signal(signal.SIGTERM)
        try:
            beat.wait(timeout=15)
        except subprocess.TimeoutExpired:
            beat.kill()
        server.stop()

"""Celery beat's scheduler in production: celery-redbeat's, made to ride out a Redis outage.

redbeat 2.4.2 keeps the schedule and a lock (only the holder sends) in Redis, and beat exits on the
first Redis error it meets: at start-up (``setup_schedule`` reads the schedule), on every tick
(``lock.extend``) and on the way out (``lock.owned``). Its own ``retry_period`` option retries the
schedule's calls but not the lock's, which holds the plain client. Under a supervisor that restarts
it every few seconds that is a restart loop for as long as Redis is away (the scale-out drill
counted 12); without one, no reminders after the outage. Decision record:
docs/decisions/0007-workers-and-beat-ride-out-redis.md.

This scheduler:

- waits for Redis at start-up, retrying with a growing pause (logged), instead of exiting;
- takes the lock without blocking, from ``tick`` (redbeat's ``beat_init`` handler blocks in
  ``acquire`` and gives up silently on an error): a beat without the lock stands by, trying again
  every few seconds, and sends nothing;
- on a Redis error in a tick, logs it and tries again a few seconds later; sends nothing meanwhile;
- when the lock cannot be extended because it ran out while Redis was away (another beat may hold
  it now), stands down and competes for it again: it never sends on a lock it has not just extended;
- puts the schedule's entries back when it takes the lock, in case Redis came back empty;
- ticks at least three times per lock timeout, so a live leader's lock never runs out between ticks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.signals import beat_init
from redbeat.schedulers import (
    LUA_EXTEND_TO_SCRIPT,
    RedBeatScheduler,
    acquire_distributed_beat_lock,
    get_redis,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("celery.beat")

# What "Redis is unreachable" looks like from redis-py (BusyLoadingError, Redis still loading its
# append-only file after a restart, is a ConnectionError).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
START_UP_MAX_PAUSE = 30.0

# Locks are taken in ``tick`` below, without blocking; redbeat's handler would block the standby
# beat in ``acquire`` (polling only every max_interval) and leave no lock on a Redis error.
beat_init.disconnect(acquire_distributed_beat_lock)


class ResilientRedBeatScheduler(RedBeatScheduler):
    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        # A few seconds; shorter with a short lock (the drill's 30 s) so a standby beat takes
        # over well within one lock timeout.
        self.retry_interval = max(1.0, min(5.0, self.lock_timeout / 6))
        self.entries_installed = True  # by setup_schedule, called from the constructor

    def setup_schedule(self) -> None:
        pause = 1.0
        while True:
            try:
                super().setup_schedule()
                return
            except UNREACHABLE as exc:
                logger.warning(
                    "beat: Redis unreachable at start-up (%s); trying again in %.0f s", exc, pause
                )
                time.sleep(pause)
                pause = min(pause * 2, START_UP_MAX_PAUSE)

    def _acquire_lock(self) -> bool:
        client = get_redis(self.app)
        lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.retry_interval)
        # As redbeat does: extend *to* the timeout, not by it.
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)
        if not lock.acquire(blocking=False):
            return False
        logger.info("beat: Acquired lock")
        self.lock = lock
        # Redis may have come back empty (no persistence, a fail-over): the new holder puts the
        # schedule's entries back (each keeps its last run when it still exists).
        self.entries_installed = False
        return True

    def tick(self, min: Any = min, **kwargs: Any) -> float:
        try:
            if self.lock_key and self.lock is None and not self._acquire_lock():
                logger.debug("beat: another beat holds the lock; standing by")
                return self.retry_interval
            if not self.entries_installed:
                super().setup_schedule()
                self.entries_installed = True
            interval = super().tick(min=min, **kwargs)
        except LockError as exc:
            # The lock ran out while Redis was away; whoever holds it now sends. Compete again.
            logger.warning("beat: lost the lock (%s); standing by", exc)
            self.lock = None
            return self.retry_interval
        except UNREACHABLE as exc:
            logger.warning(
                "beat: Redis unreachable (%s); sending nothing, trying again in %.0f s",
                exc,
                self.retry_interval,
            )
            return self.retry_interval
        if self.lock_key:
            interval = min(interval, self.lock_timeout / 3)
        return interval

    def close(self) -> None:
        if self.lock is not None:
            try:
                if self.lock.owned():
                    self.lock.release()
                    logger.info("beat: Released lock")
            except (*UNREACHABLE, LockError):
                # Unreachable: the lock runs out by itself after lock_timeout.
                logger.warning("beat: could not release the lock; it expires by itself")
            self.lock = None
        super().close()

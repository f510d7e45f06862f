"""The Celery app. Settings come from Django's (``CELERY_*``, see config/settings.py)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives in code. Deadlines live in the database and the scan finds them, so
# nothing is ever scheduled days ahead as an ETA task.
app.conf.beat_schedule = {
    "sla-scan": {
        "task": "cases.tasks.sla_scan",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "notification-sweep": {
        "task": "notifications.tasks.sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Idempotency-Key responses are replayable for 24 h; drop older ones hourly.
    "idempotency-purge": {
        "task": "cases.tasks.purge_idempotency_records",
        "schedule": crontab(minute=17),
        "options": {"expires": 3000},
    },
    # Instant-mode settlement (先划转后清算): last month's statements, drawn up early every day
    # (idempotent; the first run of a month draws them, the others find them drawn).
    "settlement-draw": {
        "task": "cases.tasks.settlement_draw",
        "schedule": crontab(hour=2, minute=10),
        "options": {"expires": 3600},
    },
    # 08:30 Asia/Shanghai every day; the task itself skips days that are not working days
    # (holidays, weekends) and runs on make-up working days, from the calendar table.
    "sla-daily-digest": {
        "task": "cases.tasks.sla_digest",
        "schedule": crontab(hour=8, minute=30),
        "options": {"expires": 3600},
    },
}

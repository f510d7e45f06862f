"""gunicorn settings for the container, the systemd unit and the Kubernetes Deployment.

Every value can be overridden from the environment: ``PORT``, ``WEB_CONCURRENCY`` (worker
processes; gunicorn reads it itself too), ``GUNICORN_THREADS``, ``GUNICORN_TIMEOUT``,
``FORWARDED_ALLOW_IPS`` (the proxies whose X-Forwarded-* headers are trusted).
"""

from __future__ import annotations

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Two per core is the usual sync-worker figure; requests spend most of their time in PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 25
keepalive = 5
# Recycle workers now and then: bounds slow leaks, spread so they do not all restart at once.
max_requests = 5000
max_requests_jitter = 500
# The heartbeat file lives in memory: the root file system may be read-only.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - gunicorn's documented choice for containers
# gunicorn's control socket (for gunicornc) defaults to $HOME/.gunicorn/, which is /app in the
# image: read-only. Keep it in memory too.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "/dev/shm/gunicorn.ctl")  # noqa: S108
accesslog = "-"
errorlog = "-"
# Access and error lines through the ID-number mask, like every application log line.
logger_class = "config.gunicorn_logging.MaskingLogger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

"""gunicorn's own log lines through the same ID-number mask as the application's.

gunicorn writes its access and error logs with its own loggers, not Django's ``LOGGING``: a URL
carrying a full ID number (``/admin/...?q=...``, a mistyped path) would reach the access log as typed.
``deploy/gunicorn.conf.py`` and the Procfile name this class as ``logger_class``.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.logging_filters import MaskIdNumbersFilter


class MaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, MaskIdNumbersFilter) for f in log.filters):
                log.addFilter(MaskIdNumbersFilter())

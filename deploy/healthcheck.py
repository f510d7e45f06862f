"""Container health check: GET /healthz on the local gunicorn; exit 0 when it answers 200.

Django answers 400 to a Host it does not know, so the request names the first entry of
``ALLOWED_HOSTS`` (or ``HEALTHCHECK_HOST``). /healthz is exempt from the HTTPS redirect.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    host = os.environ.get("HEALTHCHECK_HOST") or os.environ.get("ALLOWED_HOSTS", "localhost")
    host = host.split(",")[0].strip().lstrip(".") or "localhost"
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

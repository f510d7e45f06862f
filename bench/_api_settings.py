"""Settings for bench/bench_api.py: the project's, plus a bench-only URL module (the bare view)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench._api_urls"

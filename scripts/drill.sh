#!/usr/bin/env bash
# `make drill`: the scale-out drill (deploy/drill/drill.py): two gunicorns, three Celery workers and
# two beats on a throwaway PostgreSQL and Redis of its own (free ports, a scratch directory), a few
# thousand cases through the API while a worker and a beat are killed and Redis is stopped for 60 s;
# then the checks from the database. About 6-10 minutes. Results: docs/reliability.md.
#
#   scripts/drill.sh [--cases N] [--rate R] [--cohort N] [--json FILE] [--keep]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x /usr/lib/postgresql/15/bin/initdb ] || apt_install postgresql ||
    die "the drill needs the PostgreSQL 15 server binaries (apt-get install postgresql)"
command -v redis-server >/dev/null 2>&1 || apt_install redis-server ||
    die "the drill needs redis-server (apt-get install redis-server)"
uv_sync
exec "${uv_cmd[@]}" run --frozen --no-sync python deploy/drill/drill.py "$@"

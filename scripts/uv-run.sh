#!/usr/bin/env bash
# Make sure uv and the project's environment (.venv, from uv.lock, dev group included) exist, then
# run a command inside it. With no command it only prepares the environment. NO_SYNC=1 skips the
# sync (for loops that already did it).
#
#   scripts/uv-run.sh python manage.py migrate
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -n "${NO_SYNC:-}" ]; then
    ensure_uv
else
    uv_sync
fi
if [ "$#" -gt 0 ]; then
    exec "${uv_cmd[@]}" run --frozen --no-sync "$@"
fi

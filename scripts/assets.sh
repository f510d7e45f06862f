#!/usr/bin/env bash
# The front-end assets the pages serve, from the npm registry at the versions package-lock.json
# pins (npm ci, integrity-checked), copied with their licences into desk/static/desk/vendor/ (not in
# git). Nothing is fetched from a CDN at run time. Idempotent: a second run with the same lock file
# does nothing. Used by `make run`, `make test` and before building the container image.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENDOR=desk/static/desk/vendor
STAMP="$VENDOR/.package-lock.sha256"
want=$(sha256sum package-lock.json | cut -d' ' -f1)

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
    [ ! -f node_modules/echarts/dist/echarts.common.min.js ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
    command -v npm >/dev/null 2>&1 || apt_install npm || die "no npm: install Node.js and npm"
    log "npm ci (htmx, ECharts; axe-core for the browser tests)"
    npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f "$VENDOR/echarts.min.js" ] && [ -f "$VENDOR/htmx.min.js" ]; then
    exit 0
fi
log "copying htmx and ECharts into $VENDOR"
rm -rf "$VENDOR"
mkdir -p "$VENDOR"
# The common build: line and bar charts, grid, legend, tooltip, dataset (what the dashboard draws).
cp node_modules/echarts/dist/echarts.common.min.js "$VENDOR/echarts.min.js"
cp node_modules/echarts/LICENSE "$VENDOR/LICENSE-echarts.txt"
cp node_modules/zrender/LICENSE "$VENDOR/LICENSE-zrender.txt"
cp node_modules/htmx.org/dist/htmx.min.js "$VENDOR/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$VENDOR/LICENSE-htmx.txt"
echo "$want" >"$STAMP"

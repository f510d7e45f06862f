#!/usr/bin/env bash
# `make run`: the development setup on one machine, no servers needed.
#
# Prepares the environment, migrates the database (SQLite in var/db.sqlite3 unless DATABASE_URL is
# set), loads the demo data, collects static files for gunicorn, then starts every process of the
# Procfile with honcho (PROCFILE=... picks another file). Ctrl-C stops them all.
#
# SKIP_DEMO=1 skips `manage.py load_demo`. PORT=8001 (make run PORT=8001) serves on another port
# when 8000 is taken.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROCFILE="${PROCFILE:-Procfile}"
[ -f "$PROCFILE" ] || die "no $PROCFILE"
PORT="${PORT:-8000}"
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65000 ] ||
    die "PORT must be a number from 1024 to 65000 (got '$PORT')"
if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(('127.0.0.1', $PORT)) else 1)"; then
    :
else
    die "port $PORT is taken: stop what runs there, or choose another port: make run PORT=8001"
fi
# The documents' QR codes and printed addresses point here.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"

uv_sync
mkdir -p var
# The signed documents embed a TrueType Chinese font; without it (not root) they fall back to a
# standard font the PDF reader supplies.
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || apt_install fonts-wqy-zenhei ||
    warn "no fonts-wqy-zenhei: documents use a non-embedded Chinese font"

if [ -n "${DATABASE_URL:-}" ]; then
    log "database: DATABASE_URL from the environment"
else
    log "database: var/db.sqlite3"
fi
log "manage.py migrate"
uvr python manage.py migrate --noinput

if [ -n "${SKIP_DEMO:-}" ]; then
    log "SKIP_DEMO set: not loading the demo data"
else
    log "manage.py load_demo"
    # Kept to print the accounts again once everything runs (below).
    uvr python manage.py load_demo | tee var/load_demo.txt
fi

# Documents are signed with per-agency certificates of a development CA (var/pki/).
log "manage.py dev_pki"
uvr python manage.py dev_pki

# htmx and ECharts for the workbench and the dashboard, pinned (package-lock.json), served by us.
bash scripts/assets.sh || die "could not install the front-end assets (Node.js and npm needed)"

# gunicorn serves no static files itself; WhiteNoise serves them from STATIC_ROOT (staticfiles/).
log "manage.py collectstatic"
uvr python manage.py collectstatic --noinput --verbosity 0

# The processes start in the background; once the web answers, the banner (the demo accounts
# last) is printed under their start-up logs, so it does not scroll away at once.
"${uv_cmd[@]}" run --frozen --no-sync honcho start -f "$PROCFILE" -p "$PORT" &
honcho_pid=$!
trap 'kill -INT "$honcho_pid" 2>/dev/null; wait "$honcho_pid"' INT TERM
for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    kill -0 "$honcho_pid" 2>/dev/null || break
    sleep 0.5
done

base="http://127.0.0.1:$PORT"
cat <<MSG

------------------------------------------------------------------------------------------
 Running the processes of $PROCFILE (Ctrl-C stops them all):
$(sed -n 's/^\([A-Za-z0-9_-]*\):.*/   - \1/p' "$PROCFILE")

 Open   $base/                  applicant pages: look up a case, sign in as an applicant
        $base/desk/             staff workbench: caseworkers' queue, most urgent first
        $base/desk/dashboard/   supervisors' on-time dashboard
        $base/admin/            administrators: agencies, rules, calendar, accounts, outbox
        $base/api/docs/         the REST API
MSG
if [ -f var/load_demo.txt ] && [ -z "${SKIP_DEMO:-}" ]; then
    echo
    sed -n '/^Accounts (password/,/^WARNING/p' var/load_demo.txt
fi
echo "------------------------------------------------------------------------------------------"
wait "$honcho_pid"

#!/usr/bin/env bash
# `make run`: the development setup on one machine, no servers needed.
#
# Prepares the environment, migrates the database (SQLite in var/db.sqlite3 unless DATABASE_URL is
# set), loads the demo data, collects static files for gunicorn, then starts every process of the
# Procfile with honcho (PROCFILE=... picks another file). Ctrl-C stops them all.
#
# SKIP_DEMO=1 skips `manage.py load_demo`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROCFILE="${PROCFILE:-Procfile}"
[ -f "$PROCFILE" ] || die "no $PROCFILE"

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
    uvr python manage.py load_demo
fi

# Documents are signed with per-agency certificates of a development CA (var/pki/).
log "manage.py dev_pki"
uvr python manage.py dev_pki

# htmx and ECharts for the workbench and the dashboard, pinned (package-lock.json), served by us.
bash scripts/assets.sh || die "could not install the front-end assets (Node.js and npm needed)"

# gunicorn serves no static files itself; WhiteNoise serves them from STATIC_ROOT (staticfiles/).
log "manage.py collectstatic"
uvr python manage.py collectstatic --noinput --verbosity 0

cat <<MSG

------------------------------------------------------------------------------------------
 Starting the processes of $PROCFILE (Ctrl-C stops them all):
$(sed -n 's/^\([A-Za-z0-9_-]*\):.*/   - \1/p' "$PROCFILE")

 Open   http://127.0.0.1:8000/            applicant pages (look up a case, sign in as an applicant)
        http://127.0.0.1:8000/admin/      staff (caseworkers, supervisors, administrators)
        http://127.0.0.1:8000/api/docs/   the REST API
 Sign in with a demo account: see the output of load_demo above.
------------------------------------------------------------------------------------------

MSG

exec "${uv_cmd[@]}" run --frozen --no-sync honcho start -f "$PROCFILE"

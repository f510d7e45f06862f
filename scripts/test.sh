#!/usr/bin/env bash
# `make test`: lint, format check, migration check, system check and the whole pytest suite on
# real PostgreSQL and Redis.
#
#   scripts/test.sh [pytest args...]          e.g. scripts/test.sh -k transition -x
#
# Which PostgreSQL:
#   1. DATABASE_URL, when set;
#   2. else localhost:5432 when `pg_isready` answers and role `postgres` can connect
#      (postgres://postgres@localhost:5432/postgres; pytest-django creates test_postgres);
#   3. else a throwaway cluster from the Debian PostgreSQL binaries, in a temporary folder on a free
#      port, stopped and deleted afterwards (`apt-get install postgresql` first when missing, as root).
# Which Redis:
#   1. REDIS_URL, when set;
#   2. else 127.0.0.1:6379 when it answers PING (database 15, so tests never touch database 0);
#   3. else a throwaway redis-server on a free port (`apt-get install redis-server` when missing).
# REDIS_URL and DATABASE_URL are exported for pytest, which runs with DJANGO_ENV=test.
#
# TEST_FORCE_THROWAWAY=1 (or `postgres` / `redis`) skips the localhost probes, to exercise the
# throwaway path. Every check runs even when an earlier one failed; the exit status is non-zero
# when any failed. pytest finding no tests (exit status 5) is a failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE="${TEST_FORCE_THROWAWAY:-}"
force_postgres() { [[ "$FORCE" == 1 || "$FORCE" == all || "$FORCE" == *postgres* ]]; }
force_redis() { [[ "$FORCE" == 1 || "$FORCE" == all || "$FORCE" == *redis* ]]; }

PG_DIR=""
PG_BIN=""
PG_RUN_AS=""
REDIS_DIR=""
failed=()

cleanup() {
    local status=$?
    if [ -n "$PG_DIR" ]; then
        if [ -f "$PG_DIR/data/postmaster.pid" ]; then
            as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 ||
                warn "could not stop the throwaway PostgreSQL in $PG_DIR"
        fi
        rm -rf "$PG_DIR"
    fi
    if [ -n "$REDIS_DIR" ]; then
        if [ -f "$REDIS_DIR/redis.pid" ]; then
            local pid
            pid="$(cat "$REDIS_DIR/redis.pid")"
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        rm -rf "$REDIS_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL ------------------------------------------------------------------------------------

# Run a PostgreSQL server binary as the user that owns the throwaway cluster (initdb refuses root).
as_pg_user() {
    if [ -n "$PG_RUN_AS" ]; then
        (cd "$PG_DIR" && runuser -u "$PG_RUN_AS" -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

pg_bindir() {
    local dir
    dir="$(find /usr/lib/postgresql -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
        return 0
    fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return 0
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

pg_can_connect() {
    uvr python - "$1" <<'PY' >/dev/null 2>&1
import sys

import psycopg

psycopg.connect(sys.argv[1], connect_timeout=5).close()
PY
}

start_throwaway_postgres() {
    if ! PG_BIN="$(pg_bindir)"; then
        apt_install postgresql || die "no PostgreSQL server binaries (initdb); install postgresql"
        PG_BIN="$(pg_bindir)" || die "postgresql installed but initdb not found"
    fi
    if is_root; then
        command -v runuser >/dev/null 2>&1 || die "running as root needs runuser (util-linux)"
        if id -u postgres >/dev/null 2>&1; then
            PG_RUN_AS=postgres
        else
            id -u pgtest >/dev/null 2>&1 ||
                useradd --system --no-create-home --shell /usr/sbin/nologin pgtest
            PG_RUN_AS=pgtest
        fi
    fi
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/yibao-test-pg.XXXXXX")"
    chmod 700 "$PG_DIR"
    [ -z "$PG_RUN_AS" ] || chown "$PG_RUN_AS" "$PG_DIR"
    local port
    port="$(free_port)"
    log "starting a throwaway PostgreSQL ($PG_BIN) on 127.0.0.1:$port in $PG_DIR"
    as_pg_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
        >"$PG_DIR/initdb.log" 2>&1 || {
        cat "$PG_DIR/initdb.log" >&2
        die "initdb failed"
    }
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 9<&- || {
        cat "$PG_DIR/server.log" >&2 || true
        die "the throwaway PostgreSQL did not start"
    }
    DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

localhost_postgres_usable() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h localhost -p 5432 -t 5 || return 1
    fi
    # Answering is not enough: the role must exist and need no password.
    pg_can_connect "$1"
}

choose_postgres() {
    if [ -n "${DATABASE_URL:-}" ]; then
        log "PostgreSQL: DATABASE_URL from the environment"
        case "$DATABASE_URL" in
        postgres://* | postgresql://* | pgsql://* | psql://*) ;;
        *) warn "DATABASE_URL is not a PostgreSQL URL; the suite is meant to run on PostgreSQL" ;;
        esac
        lock_database "$DATABASE_URL"
        return
    fi
    local url="postgres://postgres@localhost:5432/postgres"
    if force_postgres; then
        log "PostgreSQL: TEST_FORCE_THROWAWAY set, not probing localhost:5432"
    elif localhost_postgres_usable "$url"; then
        log "PostgreSQL: localhost:5432 (tests use database test_postgres)"
        DATABASE_URL="$url"
        lock_database "$DATABASE_URL"
        return
    else
        log "PostgreSQL: nothing usable on localhost:5432"
    fi
    start_throwaway_postgres
}

# Two runs on one shared server would drop each other's test database: take turns.
lock_database() {
    command -v flock >/dev/null 2>&1 || return 0
    local key lockfile
    key="$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
    lockfile="${TMPDIR:-/tmp}/yibao-test-db-$key.lock"
    [ -e "$lockfile" ] || { : >"$lockfile" && chmod 666 "$lockfile"; } 2>/dev/null || true
    exec 9<"$lockfile" || return 0
    if ! flock -n 9; then
        log "another test run is using this database; waiting for it (up to 30 minutes)"
        flock -w 1800 9 || die "gave up waiting for the other test run"
    fi
}

# --- Redis -----------------------------------------------------------------------------------------

redis_ping() {
    python3 - "$1" "$2" <<'PY' >/dev/null 2>&1
import socket
import sys

with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
PY
}

start_throwaway_redis() {
    if ! command -v redis-server >/dev/null 2>&1; then
        apt_install redis-server || die "no redis-server; install Redis"
        command -v redis-server >/dev/null 2>&1 || die "redis-server installed but not on PATH"
    fi
    REDIS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/yibao-test-redis.XXXXXX")"
    local port
    port="$(free_port)"
    log "starting a throwaway redis-server on 127.0.0.1:$port"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
        >/dev/null 9<&- || die "redis-server did not start"
    for _ in $(seq 100); do
        redis_ping 127.0.0.1 "$port" && break
        sleep 0.1
    done
    redis_ping 127.0.0.1 "$port" || {
        cat "$REDIS_DIR/redis.log" >&2 || true
        die "the throwaway redis-server does not answer"
    }
    REDIS_URL="redis://127.0.0.1:$port/0"
}

choose_redis() {
    if [ -n "${REDIS_URL:-}" ]; then
        log "Redis: REDIS_URL from the environment"
    elif force_redis; then
        log "Redis: TEST_FORCE_THROWAWAY set, not probing 127.0.0.1:6379"
        start_throwaway_redis
    elif redis_ping 127.0.0.1 6379; then
        log "Redis: 127.0.0.1:6379 (database 15)"
        REDIS_URL="redis://127.0.0.1:6379/15"
    else
        log "Redis: nothing on 127.0.0.1:6379"
        start_throwaway_redis
    fi
}

# --- the checks ------------------------------------------------------------------------------------

check() {
    local name="$1"
    shift
    log "$name"
    if ! "$@"; then
        failed+=("$name")
    fi
}

uv_sync

check "ruff check" uvr ruff check .
check "ruff format --check" uvr ruff format --check .
check "lint-imports (the layers, pyproject.toml)" uvr lint-imports
# Neither check needs a real database: an in-memory SQLite keeps them independent of any server.
check "manage.py check" env DJANGO_ENV=test DATABASE_URL="sqlite://:memory:" \
    "${uv_cmd[@]}" run --frozen --no-sync python manage.py check
check "makemigrations --check" env DJANGO_ENV=test DATABASE_URL="sqlite://:memory:" \
    "${uv_cmd[@]}" run --frozen --no-sync python manage.py makemigrations --check --dry-run

choose_postgres
choose_redis
# tests/config/test_redis_outage.py stops and starts redis-servers of its own.
command -v redis-server >/dev/null 2>&1 || apt_install redis-server ||
    die "no redis-server; install Redis (apt-get install redis-server)"
# The browser tests (tests/browser/): Debian's Chromium driven by Playwright (no browser download),
# Chinese fonts so pages and screenshots show Chinese, and axe-core from package-lock.json.
command -v chromium >/dev/null 2>&1 || apt_install chromium ||
    die "no Chromium for the browser tests; install it (apt-get install chromium)"
fc-list :lang=zh 2>/dev/null | grep -q . || apt_install fonts-noto-cjk ||
    warn "no Chinese font: screenshots will show boxes (apt-get install fonts-noto-cjk)"
# The documents' TrueType Chinese font (embedded in each PDF), and poppler's pdftoppm, pdftotext
# and pdfsig, which the PDF tests render, read and verify with.
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || apt_install fonts-wqy-zenhei ||
    die "no TrueType Chinese font for the documents (apt-get install fonts-wqy-zenhei)"
command -v pdfsig >/dev/null 2>&1 || apt_install poppler-utils ||
    die "no poppler-utils for the PDF tests (apt-get install poppler-utils)"
# htmx and ECharts, served by the pages, and axe-core for the browser tests (npm ci, pinned).
bash scripts/assets.sh || die "could not install the front-end assets"
export YIBAO_CHROMIUM="${YIBAO_CHROMIUM:-$(command -v chromium)}"
export DATABASE_URL REDIS_URL
export DJANGO_ENV=test
# Throttle counters in Redis under a prefix of this run's own: the tests clear only theirs.
export THROTTLE_KEY_PREFIX="throttle-test-$$"

SQLITE_TESTS=(
    tests/workflow/test_claims.py
    tests/cases/test_reminders.py
    tests/cases/test_digest.py
    tests/cases/test_notify.py
    tests/notifications/test_services.py
    tests/core/test_statements_portable.py
)

log "pytest $*"
set +e
EXPECT_DB_VENDOR=postgresql "${uv_cmd[@]}" run --frozen --no-sync pytest -p no:cacheprovider "$@"
status=$?
set -e
case "$status" in
0) ;;
5)
    echo "pytest collected no tests: that counts as a failure" >&2
    failed+=("pytest (no tests)")
    ;;
*) failed+=("pytest (exit status $status)") ;;
esac

# The same scan, digest, claim and outbox tests on SQLite: `make run`'s database takes the portable
# code paths (no FOR UPDATE SKIP LOCKED, no INSERT ... ON CONFLICT), which PostgreSQL never runs.
# Only for the whole suite (no ARGS): a targeted run stays a targeted run.
if [ "$#" -eq 0 ]; then
    log "pytest on SQLite: ${SQLITE_TESTS[*]}"
    set +e
    DATABASE_URL="sqlite:///$(mktemp -d)/test.sqlite3" EXPECT_DB_VENDOR=sqlite \
        "${uv_cmd[@]}" run --frozen --no-sync pytest -p no:cacheprovider "${SQLITE_TESTS[@]}"
    status=$?
    set -e
    [ "$status" -eq 0 ] || failed+=("pytest on SQLite (exit status $status)")
fi

if [ "${#failed[@]}" -gt 0 ]; then
    summary="${failed[0]}"
    for name in "${failed[@]:1}"; do summary+=", $name"; done
    echo "make test failed: $summary" >&2
    exit 1
fi

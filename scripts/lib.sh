# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# After sourcing, the working directory is the repository root and `uv_cmd` holds the command
# that runs uv (an array: `"${uv_cmd[@]}" sync`).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT" || exit 1

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Find uv; install it with pip when it is missing.
ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        uv_cmd=(uv)
        return
    fi
    if python3 -m uv --version >/dev/null 2>&1; then
        uv_cmd=(python3 -m uv)
        return
    fi
    log "uv not found: installing it with pip (python3 -m pip install uv)"
    local pip=(python3 -m pip install --quiet --disable-pip-version-check)
    # A distribution's own Python may refuse system-wide installs (PEP 668): then the user's site.
    "${pip[@]}" uv ||
        "${pip[@]}" --user uv ||
        "${pip[@]}" --user --break-system-packages uv ||
        die "could not install uv with pip (python3 -m pip install uv)"
    if command -v uv >/dev/null 2>&1; then
        uv_cmd=(uv)
    else
        # pip may have put the script somewhere that is not on PATH; the module always works.
        uv_cmd=(python3 -m uv)
    fi
}

# Create or update .venv from uv.lock (dev group included), never touching the lock file.
uv_sync() {
    ensure_uv
    log "uv sync --frozen"
    "${uv_cmd[@]}" sync --frozen --quiet
}

# Run a command inside the project's environment (already synced).
uvr() { "${uv_cmd[@]}" run --frozen --no-sync "$@"; }

# A TCP port nobody listens on right now.
free_port() {
    python3 - <<'PY'
import socket

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

# apt-get install, only as root; returns non-zero when it cannot.
apt_install() {
    if ! is_root; then
        warn "not root: cannot apt-get install $*"
        return 1
    fi
    command -v apt-get >/dev/null 2>&1 || {
        warn "no apt-get: cannot install $*"
        return 1
    }
    log "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null && apt-get install -y -qq "$@" </dev/null >/dev/null
}

#!/usr/bin/env bash
# Make what building deploy/Dockerfile needs on a machine that reaches no container registry:
# podman (with runc, and the limits a VM needs), and a local base image standing in for
# python:3.11-slim-bookworm, made with debootstrap from Debian's own packages. Idempotent: an
# existing base image is kept. Used by tests/deploy/test_container.py (and so by make test).
#
#   scripts/container_base.sh            prints the base image's name on the last line
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_IMAGE="${YIBAO_BASE_IMAGE:-localhost/yibao-python-base:bookworm}"

for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || apt_install podman runc debootstrap ||
        die "building the image needs podman, runc and debootstrap (apt-get install them)"
done

# crun, podman's default here, cannot start containers inside this kind of VM; runc can. The
# limits: podman's defaults ask for more open files and processes than the VM grants.
conf=/etc/containers/containers.conf
if is_root && ! grep -q '^runtime = "runc"' "$conf" 2>/dev/null; then
    mkdir -p /etc/containers
    cat >>"$conf" <<'EOF'
# Added by scripts/container_base.sh (yibao-transfer): runc, and limits the VM grants.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
fi

if ! podman image exists "$BASE_IMAGE"; then
    root=$(mktemp -d /var/tmp/yibao-base.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    log "debootstrap bookworm (minbase, python3) into $root"
    debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates,passwd,hostname \
        bookworm "$root" http://deb.debian.org/debian >/dev/null
    # The machine's own CA certificates (a proxy in front of the package index signs with them).
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
        chroot "$root" update-ca-certificates >/dev/null
    fi
    # As in the official python image: pip may install into the image's Python (PEP 668's marker
    # is for a distribution's own Python on a host, not for an image built for one program).
    rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
    ln -sf python3 "$root/usr/bin/python"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    # uv brings its own root certificates: point it (and pip) at the system's, which now hold
    # the machine's CA.
    tar -C "$root" -c . | podman import \
        --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
        --change "ENV UV_NATIVE_TLS=1" \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE" >/dev/null 2>&1
fi
echo "$BASE_IMAGE"

#!/usr/bin/env bash
# Build a local stand-in for the official Python base image when no container registry is reachable.
# It debootstraps Debian 12 (bookworm) with Python 3.11 from Debian's package mirror and `docker import`s
# it, so the images can be built with:  make images BASE_PYTHON=medtune-base/python:3.11-bookworm
# Needs root, debootstrap and a running Docker daemon. Usage: docker/bootstrap-base.sh [TAG]
set -euo pipefail

TAG="${1:-medtune-base/python:3.11-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
ROOTFS="$(mktemp -d "${TMPDIR:-/tmp}/medtune-rootfs.XXXXXX")"
trap 'rm -rf "$ROOTFS"' EXIT

command -v debootstrap >/dev/null || { echo "error: debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }
echo "[bootstrap] debootstrap $SUITE from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR"

# Same apt sources as the official bookworm images, so `apt-get install` in a build gets updates too.
cat > "$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
SOURCES
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

echo "[bootstrap] importing as $TAG"
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$TAG"
docker run --rm --network none "$TAG" python3 --version

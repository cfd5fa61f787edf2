#!/usr/bin/env bash
# deps.sh: install what fkscan needs to build and test, from Debian's
# packages, when it is missing.  Safe to run again: installs only what lacks.
set -euo pipefail
pkgs="build-essential cmake pkg-config libpq-dev libroaring-dev libxxhash-dev
      postgresql postgresql-contrib perl clang clang-format libclang-rt-14-dev util-linux time"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null; then
    SUDO="sudo"
else
    echo "deps.sh: error: missing packages:$missing (run as root or install them)" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian's postgresql package may create and start a "main" cluster; the
# tests use their own throwaway clusters and do not need it.

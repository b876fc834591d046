#!/usr/bin/env bash
# Installs PostGIS for the machine's PostgreSQL server when it is missing (Debian/Ubuntu).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
    echo "PostgreSQL server binaries are missing: install postgresql (15 or newer) first" >&2
    exit 1
fi
version=$(basename "$(dirname "$bindir")")
if ls /usr/share/postgresql/"$version"/extension/postgis.control >/dev/null 2>&1; then
    exit 0
fi
echo "Installing PostGIS for PostgreSQL $version…"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "PostGIS is missing and sudo is not available" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "postgresql-$version-postgis-3" >/dev/null
echo "PostGIS installed."

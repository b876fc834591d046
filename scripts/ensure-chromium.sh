#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser test when it is missing (Debian/Ubuntu).
# Also a CJK font, so that screenshots show the Chinese names and addresses.
# The test drives it with Playwright's Python package; no browser is ever downloaded.
set -euo pipefail

if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then
    exit 0
fi
echo "Installing Chromium for the console's browser test…"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "Chromium is missing and sudo is not available" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
echo "Chromium installed."

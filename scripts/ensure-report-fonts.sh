#!/usr/bin/env bash
# Installs what signed service reports need when it is missing (Debian/Ubuntu): a CJK TrueType font
# the PDF embeds (WenQuanYi Micro Hei: TrueType outlines, which fpdf2 can embed, unlike the
# CFF-flavoured Noto CJK), and poppler-utils (pdftotext, pdfimages), with which the tests read
# the PDFs back.
set -euo pipefail

packages=()
if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
    packages+=(fonts-wqy-microhei)
fi
if ! command -v pdftotext >/dev/null || ! command -v pdfimages >/dev/null; then
    packages+=(poppler-utils)
fi
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing ${packages[*]} for the service-report PDFs…"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "${packages[*]} missing and sudo is not available" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
echo "Installed ${packages[*]}."

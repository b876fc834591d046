"""The CJK font every PDF of ours embeds, and an A4 page set up with it.

fpdf2 embeds TrueType outlines (also from .ttc collections) as a subset with a ToUnicode map, so
`pdftotext` gets the Chinese back as text; CFF-flavoured OpenType (Noto CJK) it cannot embed.
Debian's WenQuanYi is TrueType; `make setup` installs it.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FAMILY = "cjk"


class FontMissing(RuntimeError):
    """No embeddable CJK font: `make setup` installs fonts-wqy-microhei."""


def font_path(configured: Path | None = None) -> Path:
    """The configured font (FSD_REPORT_FONT) when it exists, else the first Debian one installed."""
    for candidate in ([str(configured)] if configured else []) + list(FONT_CANDIDATES):
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("No CJK TrueType font: install fonts-wqy-microhei (make setup) or set FSD_REPORT_FONT")


def a4(font: Path) -> FPDF:
    """An A4 document with the CJK font registered as `cjk` and automatic page breaks."""
    pdf = FPDF(format="A4")
    pdf.add_font(FAMILY, fname=str(font))
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf

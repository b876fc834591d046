"""What rendering a report needs from the settings: the public address for the verification
QR code and the CJK font. Read once at startup (core.settings) and carried by every session of
the application (`session.info`, like the cursor key), so that signing through the API and
through a sync push — also one applied later by the worker — renders alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

RENDERING_KEY = "report_rendering"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Rendering:
    public_url: str = DEFAULT_PUBLIC_URL
    # None: the first Debian CJK font installed (completion.fonts).
    font: Path | None = None

    def verify_url(self, report_id: Any, report_hash: str) -> str:
        """Where the QR code points: the address customers reach the API at."""
        return f"{self.public_url.rstrip('/')}/api/reports/{report_id}/verify?hash={report_hash}"


def of(session: AsyncSession) -> Rendering:
    """The application's settings; the defaults for a session made without them (scripts, tests)."""
    value = session.info.get(RENDERING_KEY)
    return value if isinstance(value, Rendering) else Rendering()

"""Keeps one-time credentials out of the server's access log: the customer survey's tokens
(`/s/{token}`, `/api/survey/{token}`) and the live stream's tickets (`/api/live?ticket=…`).

uvicorn logs every request line, so its access logger gets this filter, which writes the path
with the credential masked before the record is formatted."""

from __future__ import annotations

import logging
import re

TOKEN_PATH = re.compile(r"(/s/|/api/survey/)[A-Za-z0-9_-]+")
TICKET = re.compile(r"([?&]ticket=)[^&\s]+")


def redact(path: str) -> str:
    return TICKET.sub(r"\1…", TOKEN_PATH.sub(r"\1…", path))


class SurveyTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Idempotent: each API process (uvicorn's workers too) installs it as it starts."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, SurveyTokenFilter) for f in access.filters):
        access.addFilter(SurveyTokenFilter())

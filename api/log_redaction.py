"""Keeps the customer survey's one-time tokens out of the server's access log.

The token is the credential of a survey link (`/s/{token}`, `/api/survey/{token}`): uvicorn logs
every request line, so its access logger gets this filter, which writes the path with the token
masked before the record is formatted."""

from __future__ import annotations

import logging
import re

TOKEN_PATH = re.compile(r"(/s/|/api/survey/)[A-Za-z0-9_-]+")


def redact(path: str) -> str:
    return TOKEN_PATH.sub(r"\1…", path)


class SurveyTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    logging.getLogger("uvicorn.access").addFilter(SurveyTokenFilter())

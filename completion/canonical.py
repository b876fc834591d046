"""The canonical form of a report and its SHA-256: the bytes a signature is bound to.

Two renderings of the same report must give the same bytes whatever produced them (the server,
a phone, a stored JSON document read back): object keys sorted; times as UTC
(`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, whatever offset they were written with); numbers without
representation noise (1, 1.0 and 1.00 are 1; no exponent); strings in Unicode NFC with `\\n` line
ends; UTF-8 JSON without insignificant white space.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
import unicodedata
from typing import Any

# RFC 3339 date-time with an offset: a string of this shape is a time and is normalised as one.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _instant(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("a time without a UTC offset has no canonical form")
    utc = value.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _string(value: str) -> str:
    if _INSTANT.match(value):
        # Nanoseconds do not fit a datetime; signatures never need them.
        head, _, rest = value.partition(".")
        if rest:
            digits = re.match(r"\d+", rest)
            assert digits is not None
            value = f"{head}.{digits.group()[:6]}{rest[len(digits.group()) :]}"
        return _instant(dt.datetime.fromisoformat(value.replace("z", "Z").replace(" ", "T")))
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def _number(value: int | float | decimal.Decimal) -> int | str:
    """An integral number as an int; any other as its shortest exact decimal text, marked so that
    it cannot collide with a string (`"#1.5"`)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValueError("NaN and infinity have no canonical form")
    exact = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    if exact == exact.to_integral_value():
        return int(exact)
    return "#" + format(exact.normalize(), "f")


def normalise(value: Any) -> Any:
    """The value in canonical shape (still a Python structure)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return _number(value)
    if isinstance(value, dt.datetime):
        return _instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return {_string(str(k)): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(normalise(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def canonical_text(value: Any) -> str:
    return canonical_bytes(value).decode()


def digest(value: Any) -> str:
    """SHA-256 (hex) of the canonical form."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def differences(signed: Any, now: Any, path: str = "") -> list[dict[str, Any]]:
    """Where two canonical structures differ, by field path (`photos[1].sha256`), each with both
    values; an absent side is None."""
    if isinstance(signed, dict) and isinstance(now, dict):
        found: list[dict[str, Any]] = []
        for key in sorted(set(signed) | set(now)):
            found += differences(signed.get(key), now.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(signed, list) and isinstance(now, list):
        found = []
        for i in range(max(len(signed), len(now))):
            found += differences(
                signed[i] if i < len(signed) else None, now[i] if i < len(now) else None, f"{path}[{i}]"
            )
        return found
    return [] if signed == now else [{"field": path, "signed": signed, "now": now}]

"""SLA compliance reports."""

from __future__ import annotations

import msgspec


class ComplianceOut(msgspec.Struct):
    measure: str
    clocks: int
    met: int
    breached: int
    customer_excused: int
    running: int
    raw_compliance: float | None
    contractual_compliance: float | None

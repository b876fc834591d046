"""The customer survey page's API: the signed report's summary, and the customer's answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from api.schemas.common import Input

Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]


class EngineerTimes(msgspec.Struct):
    name: str
    arrived_at: str | None
    departed_at: str | None


class SurveyOut(msgspec.Struct):
    """What the page shows: read from the signed canonical document, exactly what was signed."""

    problem_number: str
    title: str
    customer: str
    site: str
    asset_model: str | None
    asset_serial: str | None
    fault_reported: str | None
    result: str | None
    engineers: list[EngineerTimes]
    signed_by: str | None
    signed_at: dt.datetime | None
    report_hash: str | None
    expires_at: dt.datetime
    pdf: str | None


class SurveyIn(Input):
    """Either `confirmed: true` with the ratings (1–5; `overall` required), or `confirmed: false`
    with a `complaint`."""

    confirmed: bool
    timeliness: Rating | None = None
    attitude: Rating | None = None
    result: Rating | None = None
    overall: Rating | None = None
    comment: Text | None = None
    complaint: Text | None = None


class SurveyAnswerOut(msgspec.Struct):
    outcome: str
    answered_at: dt.datetime

"""The one reading of a date or time in a query filter (api.params.when over core.times): a
plain date is the start of that day in the zone given (the company's by default), or with
`end` the start of the next day; an instant is taken as written; anything else names the field."""

from __future__ import annotations

import datetime as dt

import pytest

from api.params import when
from core.errors import InvalidInput

UTC = dt.UTC


def test_a_date_is_midnight_in_the_company_zone() -> None:
    assert when("since", "2026-11-01") == dt.datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert when("until", "2026-11-30", end=True) == dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert when("since", "2026-11-01", zone="Europe/Berlin") == dt.datetime(2026, 10, 31, 23, 0, tzinfo=UTC)


def test_an_instant_is_taken_as_written_and_nothing_is_none() -> None:
    assert when("since", "2026-11-01T08:30:00+08:00") == dt.datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
    assert when("until", "2026-11-01T00:00:00Z", end=True) == dt.datetime(2026, 11, 1, tzinfo=UTC)
    assert when("since", None) is None


@pytest.mark.parametrize(
    "raw",
    ["2026-11-31", "2026-11-01T08:30:00", "1999-12-31", "2101-01-01T00:00:00Z", "yesterday", "20261101"],
)
def test_anything_else_names_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        when("since", raw)
    assert [e["field"] for e in refused.value.extra["errors"]] == ["since"]

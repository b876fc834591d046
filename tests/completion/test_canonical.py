"""The canonical form a signature is bound to: the same report gives the same bytes however it
was written down, and any change of content gives another hash."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from completion.canonical import canonical_text, differences, digest, normalise

REPORT: dict[str, Any] = {
    "problem_number": "WO-2026-000042",
    "customer": {"name": "郑州市第一人民医院", "customer_number": "C0001"},
    "engineers": [{"name": "王强", "arrived_at": "2026-03-02T09:15:00+08:00", "departed_at": None}],
    "parts_consumed": [{"sku": "PSU-750", "quantity": 2}],
    "billable": False,
}


def test_key_order_does_not_change_the_hash():
    shuffled = {k: REPORT[k] for k in reversed(list(REPORT))}
    shuffled["customer"] = {"customer_number": "C0001", "name": "郑州市第一人民医院"}
    assert digest(shuffled) == digest(REPORT)
    assert canonical_text(REPORT).startswith('{"billable":false,"customer":{"customer_number"')


@pytest.mark.parametrize(
    "same_moment",
    [
        "2026-03-02T01:15:00Z",
        "2026-03-02T01:15:00.000+00:00",
        "2026-03-01T20:15:00-05:00",
        "2026-03-02 09:15:00+08:00",
        dt.datetime(2026, 3, 2, 9, 15, tzinfo=ZoneInfo("Asia/Shanghai")),
        dt.datetime(2026, 3, 2, 1, 15, tzinfo=dt.UTC),
    ],
)
def test_a_time_hashes_the_same_in_any_zone_or_spelling(same_moment):
    other = {**REPORT, "engineers": [{**REPORT["engineers"][0], "arrived_at": same_moment}]}
    assert digest(other) == digest(REPORT)
    assert '"arrived_at":"2026-03-02T01:15:00Z"' in canonical_text(other)


def test_numbers_and_strings_are_normalised():
    decomposed = unicodedata.normalize("NFD", "Crème brûlée 服务器")
    assert decomposed != "Crème brûlée 服务器"
    assert digest({"note": decomposed, "qty": 2.0}) == digest({"note": "Crème brûlée 服务器", "qty": 2})
    assert digest({"note": "line\r\nnext"}) == digest({"note": "line\nnext"})
    assert digest({"ratio": 0.50}) == digest({"ratio": 0.5})
    # A number never hashes like the string of its digits.
    assert digest({"ratio": 0.5}) != digest({"ratio": "0.5"})
    assert digest({"qty": 1}) != digest({"qty": "1"})


def test_a_changed_field_changes_the_hash_and_is_named():
    changed = {**REPORT, "parts_consumed": [{"sku": "PSU-750", "quantity": 3}]}
    assert digest(changed) != digest(REPORT)
    assert differences(normalise(REPORT), normalise(changed)) == [
        {"field": "parts_consumed[0].quantity", "signed": 2, "now": 3}
    ]


def test_times_without_an_offset_and_nan_have_no_canonical_form():
    with pytest.raises(ValueError, match="offset"):
        digest({"at": dt.datetime(2026, 3, 2, 9, 15)})
    with pytest.raises(ValueError, match="NaN"):
        digest({"x": float("nan")})

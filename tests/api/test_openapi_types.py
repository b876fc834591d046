"""The OpenAPI document describes what each answer holds: no response field outside inventory is
an object of anything (`dict[str, Any]`) unless it is listed below, with why it is still open.
A new untyped field fails this test; typing a listed one means taking it off the list."""

from __future__ import annotations

from typing import Any

from tests.api.test_list_contract import DOCUMENT

INVENTORY = ("/api/stock", "/api/locations")

# Still open, each a shape that varies by a kind named beside it; to be typed as tagged unions.
STILL_UNTYPED = {
    "EventOut.data",  # by event kind
    "NotificationOut.data",  # by notification kind
    "ConflictOut.args",  # the arguments of whichever sync mutation met the conflict
    "ConflictOut.server_view",
    "PushOut.outcomes",  # the sync protocol's own documents (offline_sync, versioned by name@n)
    "PullOut.changes",
    "DeviceOut.held_outcomes",
    "ReportOut.content",  # by the service report's form
    "PlanOut.params",  # the solver's input and result, large and versioned with routing/
    "PlanOut.progress",
    "PlanOut.result",
    "ProposalOut.shifted",
    "ClockOut.target",  # a copy of the contract target that applied
    "VisitOut.required_parts",
}

SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def _untyped(schema: dict[str, Any]) -> bool:
    return (
        schema.get("type") == "object"
        and not schema.get("properties")
        and schema.get("additionalProperties") in (None, {}, True)
    )


def _inner(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = [schema]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _inner(schema[key])
    for key in ("oneOf", "anyOf", "allOf"):
        for part in schema.get(key, []):
            found += _inner(part)
    return found


def _components(schema: dict[str, Any], seen: set[str]) -> None:
    for part in _inner(schema):
        ref = part.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                for field in SCHEMAS[name].get("properties", {}).values():
                    _components(field, seen)


def _answered_components() -> tuple[set[str], set[str]]:
    """Components in 2xx JSON answers outside inventory, and routes whose answer is itself untyped."""
    seen: set[str] = set()
    bare: set[str] = set()
    for path, item in DOCUMENT["paths"].items():
        if path.startswith(INVENTORY):
            continue
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media, content in response.get("content", {}).items():
                    schema = content.get("schema", {})
                    if "json" in media and any(_untyped(p) for p in _inner(schema)):
                        bare.add(f"{method.upper()} {path}")
                    _components(schema, seen)
    return seen, bare


def test_answers_are_typed() -> None:
    names, bare = _answered_components()
    assert bare == set(), bare
    untyped = {
        f"{name}.{field}"
        for name in names
        for field, schema in SCHEMAS[name].get("properties", {}).items()
        if any(_untyped(p) for p in _inner(schema))
    }
    assert untyped - STILL_UNTYPED == set(), "type these answers' fields"
    assert STILL_UNTYPED - untyped == set(), "typed now: take them off STILL_UNTYPED"


def test_the_typed_answers_named_in_the_issue() -> None:
    contract = SCHEMAS["ContractOut"]["properties"]["escalation"]
    assert contract["items"]["$ref"].endswith("/EscalationOut")
    for path in ("/api/health", "/api/ready"):
        schema = DOCUMENT["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in schema, path

"""Who may see which customer's records (object-level authorisation)."""

from __future__ import annotations

import uuid

from core.errors import NotFound
from core.identity.roles import Actor, Role


def customer_scope(actor: Actor) -> uuid.UUID | None:
    """The one organisation a customer contact is limited to; None means all (staff)."""
    if actor.role is Role.CUSTOMER_CONTACT:
        if actor.customer_id is None:
            raise NotFound("This contact belongs to no customer organisation")
        return actor.customer_id
    return None


def ensure_customer_visible(actor: Actor, customer_id: uuid.UUID, what: str, record_id: uuid.UUID) -> None:
    scope = customer_scope(actor)
    if scope is not None and scope != customer_id:
        # 404, not 403: another organisation's records do not exist for this contact.
        raise NotFound(f"No {what} with id {record_id}")

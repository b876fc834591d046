from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    # Dispatchers also staff the hotline desk.
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    WAREHOUSE = "warehouse"
    CUSTOMER_CONTACT = "customer_contact"


STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DISPATCHER, Role.WAREHOUSE})
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Actor:
    """Who is acting: passed explicitly to every service (API, sync push, background jobs)."""

    user_id: uuid.UUID | None
    role: Role | None
    username: str
    customer_id: uuid.UUID | None = None
    # The sign-in (refresh-token family) this actor's token belongs to.
    session_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def engineer_id(self) -> uuid.UUID | None:
        # An engineer's record shares its id with their user account.
        return self.user_id if self.role is Role.ENGINEER else None


SYSTEM = Actor(user_id=None, role=None, username="system")

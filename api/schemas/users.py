"""User accounts and passwords."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Input, Phone, ShortText
from core.identity.roles import Role

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Username = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[a-z0-9._\-]+$")]
Email = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]


class UserIn(Input):
    username: Username
    display_name: ShortText
    role: Role
    password: Password
    email: Email | None = None
    phone: Phone | None = None
    customer_id: uuid.UUID | None = None


class UserPatch(Input):
    # The version changed; without one (older clients) the change applies to whatever is current.
    version: int | None = None
    display_name: ShortText | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    customer_id: uuid.UUID | UnsetType | None = UNSET


class PasswordChangeIn(Input):
    current_password: Password
    new_password: Password


class UserOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    email: str | None
    phone: str | None
    active: bool
    customer_id: uuid.UUID | None
    version: int


class UserPage(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None

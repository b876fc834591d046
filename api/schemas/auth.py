from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from api.schemas.common import Input


class LoginIn(Input):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # The phone signing in (offline sync): its refresh tokens are bound to it.
    device_id: uuid.UUID | None = None


class RefreshIn(Input):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user_id: uuid.UUID
    role: str

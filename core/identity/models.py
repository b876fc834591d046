from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, Timestamps, UUIDPrimaryKey, Versioned, pg_enum
from core.identity.roles import Role

role_enum = pg_enum(Role, "user_role")


class User(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "app_user"
    __mapper_args__ = {"version_id_col": Versioned.version}
    __audit_exclude__ = frozenset({"password_hash"})

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(role_enum)
    password_hash: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    # Customer contacts belong to exactly one customer organisation.
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customer.id", ondelete="RESTRICT"), index=True
    )
    # Raised by every change that must end the user's sign-ins (password, role, organisation,
    # deactivation). Each refresh token records the value it was issued under, so a sign-in that
    # raced with the change (read the user before it committed) is refused all the same.
    session_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class RefreshToken(Base):
    """One issued refresh token. Tokens of one sign-in form a family; reusing a
    rotated token revokes the whole family (the token was probably stolen)."""

    __tablename__ = "refresh_token"
    __audited__ = False

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # The phone this sign-in belongs to (offline sync): revoking the device ends it.
    device_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # The user's session_version when issued; a token of an older version is refused.
    session_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The token this one was rotated from, and the SHA-256 of the Idempotency-Key that rotated
    # this one: a retry of that refresh (same token, same key, within the grace window) gets a
    # fresh pair instead of ending the sign-in. Only a hash: keys are never stored in clear.
    parent_id: Mapped[uuid.UUID | None]
    rotated_by_key: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed sign-ins in the current window, per account and address, per account, or per address."""

    __tablename__ = "login_throttle"
    __audited__ = False

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer)
    # Delays grow from the latest failure, not from the window's start.
    last_failure_at: Mapped[datetime | None]


Index(
    "ix_refresh_token_family_live", RefreshToken.family_id, postgresql_where=RefreshToken.revoked_at.is_(None)
)

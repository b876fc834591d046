"""Access tokens (JWT, HS256 only) and opaque, rotating refresh tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.errors import Unauthenticated
from core.identity.roles import Role

# One algorithm, fixed: tokens naming any other (including "none") are refused.
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenConfig:
    secret: str
    issuer: str
    audience: str
    access_ttl: timedelta
    refresh_ttl: timedelta


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: Role
    username: str
    session_id: uuid.UUID
    customer_id: uuid.UUID | None


def encode_access(config: TokenConfig, claims: AccessClaims, now: datetime) -> str:
    payload: dict[str, Any] = {
        "sub": str(claims.user_id),
        "role": claims.role.value,
        "name": claims.username,
        "sid": str(claims.session_id),
        "iss": config.issuer,
        "aud": config.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + config.access_ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if claims.customer_id is not None:
        payload["org"] = str(claims.customer_id)
    return jwt.encode(payload, config.secret, algorithm=ALGORITHM)


def decode_access(config: TokenConfig, token: str, now: datetime) -> AccessClaims:
    expires, claims = _verified(config, token)
    # Expiry is judged by the injectable clock, not the wall clock.
    if expires <= int(now.timestamp()):
        raise Unauthenticated("The access token has expired; refresh it", reason="expired")
    return claims


# A client sends the same token with every request until it expires: its signature is checked
# once, not on each. Only tokens this server signed get here (a refused one raises, which is not
# cached), so the cache holds nothing a client can fill with its own strings.
@functools.lru_cache(maxsize=4096)
def _verified(config: TokenConfig, token: str) -> tuple[int, AccessClaims]:
    try:
        payload = jwt.decode(
            token,
            config.secret,
            algorithms=[ALGORITHM],
            audience=config.audience,
            issuer=config.issuer,
            # Times are judged by the injectable clock (decode_access), not by the wall clock.
            options={
                "require": ["exp", "iat", "iss", "aud", "sub", "sid"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        return int(payload["exp"]), AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            role=Role(payload["role"]),
            username=str(payload.get("name", "")),
            session_id=uuid.UUID(payload["sid"]),
            customer_id=uuid.UUID(payload["org"]) if payload.get("org") else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthenticated("The access token is not valid", reason="invalid") from exc


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    """How a random secret (refresh token, retry key, live ticket, survey link) is stored: random
    secrets need no slow hash, only one that keeps them out of the database in clear."""
    return hashlib.sha256(secret.encode()).hexdigest()

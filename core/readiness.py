"""Is the database reachable, and is its schema the one this code expects?"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Readiness:
    database: bool
    schema_revision: str | None
    expected_revision: str

    @property
    def ready(self) -> bool:
        return self.database and self.schema_revision == self.expected_revision

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not-ready",
            "database": self.database,
            "schema_revision": self.schema_revision,
            "expected_revision": self.expected_revision,
        }


@lru_cache(maxsize=1)
def head_revision(root: Path = PROJECT_ROOT) -> str:
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


async def check_ready(engine: AsyncEngine) -> Readiness:
    expected = head_revision()
    try:
        async with engine.connect() as conn:
            revision = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except (OperationalError, DBAPIError, SQLAlchemyTimeoutError, OSError):
        return Readiness(database=False, schema_revision=None, expected_revision=expected)
    return Readiness(database=True, schema_revision=revision, expected_revision=expected)

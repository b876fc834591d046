"""Alembic environment: synchronous psycopg, GeoAlchemy2's helpers for spatial columns."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

# Every model module must be imported so that autogenerate compares all of them.
import completion.models
import core.audit
import core.idempotency
import core.identity.models
import core.live.models
import core.rate_limits
import dispatch.contracts.models
import dispatch.customers.models
import dispatch.engineers.models
import dispatch.inspections.models
import dispatch.messaging.models
import dispatch.planning.models
import dispatch.sla.models
import dispatch.work_orders.models
import inventory.models
import kpis.indexes
import offline_sync.models
from core.database import Base, sync_url
from core.schema_filter import include_object
from core.settings import load_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

MODEL_MODULES = (
    completion.models,
    core.audit,
    core.idempotency,
    core.identity.models,
    core.live.models,
    core.rate_limits,
    dispatch.contracts.models,
    dispatch.customers.models,
    dispatch.engineers.models,
    dispatch.inspections.models,
    dispatch.messaging.models,
    dispatch.planning.models,
    dispatch.sla.models,
    dispatch.work_orders.models,
    inventory.models,
    kpis.indexes,
    offline_sync.models,
)
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or load_settings().database_url
    return sync_url(str(url))


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
            compare_server_default=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

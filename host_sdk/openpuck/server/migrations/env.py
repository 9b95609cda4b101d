"""Alembic's environment: run the migrations on the connection openpuck.server.db hands in."""
from __future__ import annotations

from alembic import context

from openpuck.server.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()

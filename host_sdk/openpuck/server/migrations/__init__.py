"""Alembic's environment and the clinic database's migrations (openpuck.server.db runs them)."""

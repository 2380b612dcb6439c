"""Alembic migrations for the symoe database; the only way the schema changes."""

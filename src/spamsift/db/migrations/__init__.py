"""Alembic migrations of the feedback store, run by ``Database.migrate``."""

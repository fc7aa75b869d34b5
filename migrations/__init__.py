"""Alembic migrations of the CDO Hub schema (shipped with the package so `cdo-hub db upgrade` works anywhere)."""

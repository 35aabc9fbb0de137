"""Fixtures for the audit tests: ``svc`` and ``sqlite_svc`` live in tests/api/harness.py."""

from api.harness import sqlite_svc, svc  # noqa: F401 - fixtures re-exported for pytest

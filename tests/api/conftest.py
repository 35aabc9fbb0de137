"""Fixtures for the API tests: ``svc`` and ``sqlite_svc`` live in harness.py.

``svc`` lives for a whole test module and runs it once on SQLite and once on PostgreSQL: building
the app (migrations, users, tokens) once per module keeps the generic resource tests fast.
"""

from api.harness import sqlite_svc, svc  # noqa: F401 - fixtures re-exported for pytest

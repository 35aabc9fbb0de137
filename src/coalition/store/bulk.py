"""Bulk writes through the DBAPI cursor, for the ledger's hot path.

SQLAlchemy Core ``insert(table), [dicts]`` spends most of its time building parameters row by
row; for the append path (thousands of rows per transaction) we hand the rows straight to the
driver's ``executemany`` inside the session's own connection and transaction, so nothing changes
about atomicity. Used only with column names taken from the ORM tables, never user input.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.orm import Session


def _mark(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def insert_rows(session: Session, table: Table, rows: Sequence[dict]) -> None:
    """INSERT many rows (dicts with the same keys) in one executemany."""
    if not rows:
        return
    cols = list(rows[0])
    mark = _mark(session)
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    session.connection().exec_driver_sql(sql, [tuple(r[c] for c in cols) for r in rows])


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict]) -> None:
    """UPDATE many rows by primary key ``key`` (every other key of the dicts is set)."""
    if not rows:
        return
    cols = [c for c in rows[0] if c != key]
    mark = _mark(session)
    sql = f"UPDATE {table.name} SET {', '.join(f'{c} = {mark}' for c in cols)} WHERE {key} = {mark}"
    session.connection().exec_driver_sql(sql, [tuple(r[c] for c in cols) + (r[key],) for r in rows])

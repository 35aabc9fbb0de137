"""Bulk writes through the DBAPI cursor, for the ledger's hot path.

SQLAlchemy Core ``insert(table), [dicts]`` spends most of its time building parameters row by
row; for the append path (thousands of rows per transaction) we hand the rows straight to the
driver inside the session's own connection and transaction, so nothing changes about atomicity:
SQLite gets ``executemany``; PostgreSQL gets ``COPY ... FROM STDIN`` for inserts and one
``UPDATE ... FROM unnest(<one array per column>)`` for updates (psycopg's per-row executemany costs a
protocol round of messages per row). Used only with column names taken from the ORM tables,
never user input.
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
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in cols))
        cur.close()
        return
    mark = _mark(session)
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    session.connection().exec_driver_sql(sql, [tuple(r[c] for c in cols) for r in rows])


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict]) -> None:
    """UPDATE many rows by primary key ``key`` (every other key of the dicts is set)."""
    if not rows:
        return
    cols = [c for c in rows[0] if c != key]
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # one UPDATE ... FROM unnest(arrays): one parameter per column, whatever the row count
        allc = [key, *cols]
        types = [table.c[c].type.compile(dialect=conn.dialect) for c in allc]
        src = ", ".join(f"%s::{t}[]" for t in types)
        sql = (f"UPDATE {table.name} AS t SET {', '.join(f'{c} = v.{c}' for c in cols)} "
               f"FROM unnest({src}) AS v({', '.join(allc)}) WHERE t.{key} = v.{key}")
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cur.execute(sql, [[r[c] for r in rows] for c in allc])
        cur.close()
        return
    mark = _mark(session)
    sql = f"UPDATE {table.name} SET {', '.join(f'{c} = {mark}' for c in cols)} WHERE {key} = {mark}"
    session.connection().exec_driver_sql(sql, [tuple(r[c] for c in cols) + (r[key],) for r in rows])

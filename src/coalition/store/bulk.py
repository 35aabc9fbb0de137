"""Bulk writes through the DBAPI cursor, for the ledger's hot path.

SQLAlchemy Core ``insert(table), [dicts]`` spends most of its time building parameters row by
row; for the append path (thousands of rows per transaction) we hand the rows straight to the
driver inside the session's own connection and transaction, so nothing changes about atomicity:
SQLite gets ``executemany``; PostgreSQL gets binary ``COPY ... FROM STDIN`` for inserts (each
column sent in its type's binary form, so the server parses no text: no hex of the hashes, no
digits of the integers; text ``COPY`` for a column type it does not map) and one
``UPDATE ... FROM unnest(<one array per column>)`` for updates (psycopg's per-row executemany costs a
protocol round of messages per row). Used only with column names taken from the ORM tables,
never user input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary, SmallInteger, String, Table, Text
from sqlalchemy.orm import Session


def raw_cursor(session: Session) -> Any:
    """The DBAPI cursor of the session's own connection (same transaction)."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the session's connection is closed")
    return raw.cursor()


def _mark(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows (dicts with the same keys) in one executemany."""
    if not rows:
        return
    cols = list(rows[0])
    get = itemgetter(*cols)  # C-level row -> tuple (a generator per row was the main cost)
    tuples = [get(r) for r in rows] if len(cols) > 1 else [(r[cols[0]],) for r in rows]
    insert_tuples(session, table, cols, tuples)


#: the PostgreSQL binary COPY type of each column type the ledger and projection tables use, by
#: exact class (a subclass such as Enum may be another server type); the server reads each value
#: with the receive function of its column's type, so the binary form must be exact
_BINARY_TYPES: dict[type, str] = {
    BigInteger: "int8",
    SmallInteger: "int2",
    Integer: "int4",
    Boolean: "bool",
    LargeBinary: "bytea",
    String: "text",  # varchar(n) and text share one binary form (the UTF-8 bytes)
    Text: "text",
}
_COPY_TYPES: dict[tuple[Table, tuple[str, ...]], list[str] | None] = {}


def copy_types(table: Table, cols: Sequence[str]) -> list[str] | None:
    """The binary COPY types of ``cols`` of ``table``, or None if one has no exact mapping
    (then the rows go as text COPY). A double-precision ``Float`` maps to float8; a Float with a
    precision (possibly single precision) does not."""
    key = (table, tuple(cols))
    if key in _COPY_TYPES:
        return _COPY_TYPES[key]
    out: list[str] | None = []
    for c in cols:
        t = table.c[c].type
        name = _BINARY_TYPES.get(type(t))
        if name is None and type(t) is Float and t.precision is None and not t.asdecimal:
            name = "float8"
        if name is None or out is None:
            out = None
            break
        out.append(name)
    _COPY_TYPES[key] = out
    return out


def insert_tuples(session: Session, table: Table, cols: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT many rows given as tuples in the order of ``cols`` (no per-row dict at all)."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        types = copy_types(table, cols)
        cur = raw_cursor(session)
        sql = f"COPY {table.name} ({', '.join(cols)}) FROM STDIN" + (" (FORMAT BINARY)" if types else "")
        with cur.copy(sql) as copy:
            if types:
                copy.set_types(types)
            for r in rows:
                copy.write_row(r)
        cur.close()
        return
    mark = _mark(session)
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    # straight to the DBAPI cursor of the session's connection (same transaction): SQLAlchemy's
    # exec_driver_sql adds per-call bookkeeping we do not need for plain tuples
    cur = raw_cursor(session)
    cur.executemany(sql, rows)
    cur.close()


def update_rows(session: Session, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE many rows by primary key ``key`` (every other key of the dicts is set)."""
    if not rows:
        return
    cols = [c for c in rows[0] if c != key]
    get = itemgetter(*cols, key)
    update_tuples(session, table, key, cols, [get(r) for r in rows])


def update_tuples(
    session: Session, table: Table, key: str, cols: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """UPDATE many rows by primary key: each tuple is the values of ``cols`` then the key."""
    if not rows:
        return
    conn = session.connection()
    cur = raw_cursor(session)
    try:
        if conn.dialect.name == "postgresql":
            # one UPDATE ... FROM unnest(arrays): one parameter per column, whatever the row count
            allc = [*cols, key]
            types = [table.c[c].type.compile(dialect=conn.dialect) for c in allc]
            src = ", ".join(f"%s::{t}[]" for t in types)
            sql = (
                f"UPDATE {table.name} AS t SET {', '.join(f'{c} = v.{c}' for c in cols)} "
                f"FROM unnest({src}) AS v({', '.join(allc)}) WHERE t.{key} = v.{key}"
            )
            cur.execute(sql, [list(col) for col in zip(*rows, strict=True)])
            return
        mark = _mark(session)
        sql = f"UPDATE {table.name} SET {', '.join(f'{c} = {mark}' for c in cols)} WHERE {key} = {mark}"
        cur.executemany(sql, rows)
    finally:
        cur.close()

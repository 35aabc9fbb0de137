"""coalition.store.bulk and the typing helpers of coalition.store.db, on real SQLite and
PostgreSQL: bulk rows land in the caller's transaction (a rollback removes them), updates touch
only the named columns of the keyed rows, and the helpers refuse what they cannot type."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.bulk import copy_types, insert_rows, insert_tuples, update_rows, update_tuples
from coalition.store.db import Base, make_engine, rowcount, session_factory, table_of, transaction


class _BulkProbe(Base):
    __tablename__ = "test_bulk_probe"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    qty: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)


def _factory(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    table_of(_BulkProbe).create(engine)
    return engine, session_factory(engine)


def _rows(factory) -> list[tuple[str, int, float, bool]]:  # type: ignore[no-untyped-def]
    with factory() as db:
        return [tuple(r) for r in db.execute(select(_BulkProbe.key, _BulkProbe.qty, _BulkProbe.value,
                                                    _BulkProbe.ok).order_by(_BulkProbe.key))]


def test_insert_and_update_in_the_callers_transaction(db_url: str) -> None:
    engine, factory = _factory(db_url)
    try:
        table = table_of(_BulkProbe)
        with transaction(factory) as db:
            insert_rows(db, table, [{"key": "a", "qty": 1, "value": 1.5, "ok": True},
                                    {"key": "b", "qty": 2, "value": 2.5, "ok": False}])
            insert_tuples(db, table, ("key", "qty", "value", "ok"), [("c", 3, 3.5, True)])
        assert _rows(factory) == [("a", 1, 1.5, True), ("b", 2, 2.5, False), ("c", 3, 3.5, True)]
        with transaction(factory) as db:
            update_rows(db, table, "key", [{"key": "a", "qty": 10}, {"key": "c", "qty": 30}])
            update_tuples(db, table, "key", ("value", "ok"), [(9.0, True, "b")])
        # only the named columns of the keyed rows changed
        assert _rows(factory) == [("a", 10, 1.5, True), ("b", 2, 9.0, True), ("c", 30, 3.5, True)]
        with pytest.raises(RuntimeError), transaction(factory) as db:
            insert_tuples(db, table, ("key", "qty", "value", "ok"), [("d", 4, 4.0, False)])
            update_tuples(db, table, "key", ("qty",), [(0, "a")])
            raise RuntimeError("the caller fails after the bulk writes")
        assert _rows(factory) == [("a", 10, 1.5, True), ("b", 2, 9.0, True), ("c", 30, 3.5, True)]
    finally:
        engine.dispose()


def test_empty_batches_write_nothing(sqlite_url: str) -> None:
    engine, factory = _factory(sqlite_url)
    try:
        with transaction(factory) as db:
            insert_rows(db, table_of(_BulkProbe), [])
            update_rows(db, table_of(_BulkProbe), "key", [])
        assert _rows(factory) == []
    finally:
        engine.dispose()


def test_a_duplicate_key_fails_the_whole_batch(db_url: str) -> None:
    engine, factory = _factory(db_url)
    try:
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)), transaction(factory) as db:
            insert_tuples(db, table_of(_BulkProbe), ("key", "qty", "value", "ok"),
                          [("a", 1, 1.0, True), ("a", 2, 2.0, True)])
        assert _rows(factory) == []
    finally:
        engine.dispose()


def test_rowcount_counts_matched_rows_and_refuses_a_select(sqlite_url: str) -> None:
    engine, factory = _factory(sqlite_url)
    try:
        with transaction(factory) as db:
            insert_rows(db, table_of(_BulkProbe), [{"key": k, "qty": 0, "value": 0.0, "ok": True}
                                                   for k in ("a", "b", "c")])
            matched = db.execute(update(_BulkProbe).where(_BulkProbe.key != "b").values(qty=1))
            assert rowcount(matched) == 2
            none = db.execute(update(_BulkProbe).where(_BulkProbe.key == "zz").values(qty=1))
            assert rowcount(none) == 0
            with pytest.raises(TypeError):
                rowcount(db.execute(text("SELECT 1")).freeze()())  # a plain (replayed) Result has none
    finally:
        engine.dispose()


def test_table_of_refuses_a_class_not_mapped_to_one_table() -> None:
    class NotMapped:
        __name__ = "NotMapped"
        __table__ = select(text("1")).subquery()

    with pytest.raises(TypeError, match="not mapped to a single table"):
        table_of(NotMapped)  # type: ignore[arg-type]
    assert table_of(_BulkProbe).name == "test_bulk_probe"


class _CopyProbe(Base):
    """Every column type the ledger's binary COPY maps, plus one it does not (a single-precision float)."""

    __tablename__ = "test_bulk_copy_probe"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    small: Mapped[int] = mapped_column(SmallInteger)
    mid: Mapped[int] = mapped_column(Integer)
    flag: Mapped[bool] = mapped_column(Boolean)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(12))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    value: Mapped[float] = mapped_column(Float)
    single: Mapped[float | None] = mapped_column(Float(precision=24), nullable=True)


def test_copy_types_map_exact_column_types_and_refuse_the_rest() -> None:
    table = table_of(_CopyProbe)
    cols = ("id", "small", "mid", "flag", "blob", "name", "body", "value")
    assert copy_types(table, cols) == ["int8", "int2", "int4", "bool", "bytea", "text", "text", "float8"]
    assert copy_types(table, (*cols, "single")) is None  # text COPY: the server parses it


def test_binary_and_text_copy_store_the_same_values(db_url: str) -> None:
    engine = make_engine(db_url)
    table = table_of(_CopyProbe)
    table.create(engine)
    try:
        factory = session_factory(engine)
        rows = [(1, -3, 2**31 - 1, True, b"\x00\xff" * 16, "Ünïcode \"q\"", None, 900.0, 0.5),
                (2, 7, -5, False, b"", "", "x" * 300 + "\n\t\\", 1e-05, 0.25)]
        with transaction(factory) as db:
            insert_tuples(db, table, [c.name for c in table.columns][:8], [r[:8] for r in rows])  # binary COPY
            insert_tuples(db, table, [c.name for c in table.columns], [(r[0] + 10, *r[1:]) for r in rows])  # text
        with factory() as db:
            got = [tuple(r) for r in db.execute(select(table).order_by(table.c.id))]
        assert [g[:8] for g in got[:2]] == [r[:8] for r in rows]
        assert [g[1:8] for g in got[2:]] == [g[1:8] for g in got[:2]]  # the two paths agree
    finally:
        engine.dispose()

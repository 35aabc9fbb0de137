"""coalition.store.bulk and the typing helpers of coalition.store.db, on real SQLite and
PostgreSQL: bulk rows land in the caller's transaction (a rollback removes them), updates touch
only the named columns of the keyed rows, and the helpers refuse what they cannot type."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import Boolean, Float, Integer, String, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.bulk import insert_rows, insert_tuples, update_rows, update_tuples
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

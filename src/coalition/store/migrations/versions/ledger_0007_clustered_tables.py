"""ledger: on SQLite, four tables the append writes for every event are clustered on their key.

A SQLite table is a B-tree keyed by a hidden ``rowid``; a primary key that is not a single
``INTEGER`` column is a second B-tree beside it. ``WITHOUT ROWID`` keeps the rows in the primary
key's own B-tree, so an inserted row is written once instead of twice (plus its secondary
indexes, whose entries then point by primary key). The append path writes these tables for
every event: ``ledger_event_ref`` (three or more rows an event), ``inv_manifest_line``,
``inv_manifest`` and the Merkle ``ledger_node`` rows. Columns, keys, indexes and data are
unchanged; PostgreSQL (heap tables) is untouched. ``inv_serial`` keeps its rowid: each entry of
its covering place index, which the inventory query scans whole, would carry the serial's text
instead of an integer (timed at 200,000-300,000 serials under load, the query's change could
not be told from the noise either way, so the index is left as it is).

Revision ID: ledger_0007
Revises: ledger_0006
Create Date: 2026-12-01
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "ledger_0007"
down_revision = "ledger_0006"
branch_labels = None
depends_on = None

#: no foreign key points at any of them (a rebuild drops and renames the table)
TABLES = ("ledger_event_ref", "ledger_node", "inv_manifest", "inv_manifest_line")
_SUFFIX = re.compile(r"\s*WITHOUT\s+ROWID\s*$", re.IGNORECASE)


def _rebuild(table: str, *, rowid: bool) -> None:
    """Copy ``table`` into a twin created from its own stored definition, with or without the
    rowid, then put the twin in its place with the same indexes (SQLite DDL is transactional)."""
    bind = op.get_bind()
    create = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    indexes = list(
        bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
            {"t": table},
        ).scalars()
    )
    head = re.match(r'\s*CREATE\s+TABLE\s+"?' + table + r'"?\s*\(', create, re.IGNORECASE)
    if head is None:
        raise RuntimeError(f"unexpected definition of {table}: {create[:80]}")
    body = _SUFFIX.sub("", create[head.end() :])
    new = f"{table}__rebuild"
    op.execute(f"CREATE TABLE {new} ({body}" + ("" if rowid else " WITHOUT ROWID"))
    op.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    for sql in indexes:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, rowid=True)

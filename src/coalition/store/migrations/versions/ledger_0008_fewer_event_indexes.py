"""ledger: fewer B-tree writes per appended event (two indexes no query needs; SQLite's seq is the rowid).

Every appended event inserted one entry into each index of ``ledger_event`` and of its three or
more ``ledger_event_ref`` rows. Two of those indexes serve no query any more:

- ``ix_ledger_event_batch_id``: the only reader was the inclusion proof's read of a batch's leaf
  hashes, which now scans the batch's own seq span (``first_seq`` to its last run's end, from
  ``ledger_batch``) on the primary key and filters by ``batch_id``;
- ``ix_ledger_event_ref_seq``: it served "the title nations of these events", which now comes
  from the events' signed chain links (``coalition.ledger.queries.titles``; the same set, read
  from signed data instead of the unhashed index), and a correction's read of the reversed
  event's references (one scan of the primary key: a correction replays the whole log anyway).
  Every other reader of ``ledger_event_ref`` looks up by ``ref``, the primary key's first column.

On SQLite ``ledger_event.seq`` was declared ``BIGINT PRIMARY KEY``, which is not an alias of the
rowid: the table was a rowid B-tree plus a separate primary-key B-tree. Declared ``INTEGER`` it
is the rowid itself, so an event row is one B-tree insert instead of two and a read by seq range
walks the table directly. Columns, values and the other indexes are unchanged; PostgreSQL only
loses the two indexes.

Revision ID: ledger_0008
Revises: ledger_0007
Create Date: 2026-12-02
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "ledger_0008"
down_revision = "ledger_0007"
branch_labels = None
depends_on = None

#: (index, table, columns) dropped by this revision
DROPPED = (
    ("ix_ledger_event_batch_id", "ledger_event", ["batch_id"]),
    ("ix_ledger_event_ref_seq", "ledger_event_ref", ["seq"]),
)
_SEQ = {
    "INTEGER": re.compile(r"\bseq\s+BIGINT\b", re.IGNORECASE),
    "BIGINT": re.compile(r"\bseq\s+INTEGER\b", re.IGNORECASE),
}


def _retype_seq(to: str) -> None:
    """Rebuild SQLite's ``ledger_event`` from its own stored definition with ``seq`` declared
    ``to`` (INTEGER: the rowid alias; BIGINT: as before), keeping its rows and indexes. No
    foreign key points at the table; SQLite DDL is transactional."""
    bind = op.get_bind()
    create = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_event'")
    ).scalar_one()
    new, n = _SEQ[to].subn(f"seq {to}", create, count=1)
    if n != 1:
        raise RuntimeError(f"unexpected definition of ledger_event: {create[:120]}")
    indexes = list(
        bind.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger_event' AND sql IS NOT NULL"
            )
        ).scalars()
    )
    head = re.match(r'\s*CREATE\s+TABLE\s+"?ledger_event"?\s*\(', new, re.IGNORECASE)
    if head is None:
        raise RuntimeError(f"unexpected definition of ledger_event: {create[:120]}")
    op.execute("CREATE TABLE ledger_event__rebuild (" + new[head.end() :])
    op.execute("INSERT INTO ledger_event__rebuild SELECT * FROM ledger_event ORDER BY seq")
    op.execute("DROP TABLE ledger_event")
    op.execute("ALTER TABLE ledger_event__rebuild RENAME TO ledger_event")
    for sql in indexes:
        op.execute(sql)


def upgrade() -> None:
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        _retype_seq("INTEGER")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _retype_seq("BIGINT")
    for name, table, cols in DROPPED:
        op.create_index(name, table, cols)

"""ORM models of the custody ledger (the append-only log and its Merkle tree).

Rows of ``ledger_event``, ``ledger_batch``, ``ledger_signature``, ``ledger_checkpoint`` and
``ledger_cosignature`` are history: code only ever INSERTs them (nothing in the package issues an
UPDATE or DELETE on them). ``ledger_head`` is the single lock row that serialises appenders;
``ledger_node`` holds derived interior hashes of the Merkle tree (see ``docs/ledger.md``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.db import Base


class LedgerKey(Base):
    """A CACHE of public keys (replayed from ``ledger_key_event``); never an authority: verify
    and append derive keys from the signed key log under the pinned trust file."""

    __tablename__ = "ledger_key"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # "nation" | "operator"
    nation: Mapped[str | None] = mapped_column(String(3), nullable=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[str] = mapped_column(String(32))


class LedgerHead(Base):
    """One row (id=1): size of the log and hash of its last event; locked by every appender."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerNationHead(Base):
    """Derived: the head of each title-holder nation's chain inside the log (counter, last event
    hash and seq). Moved by every append; ``verify`` recomputes it from the signed bodies."""

    __tablename__ = "ledger_nation_head"

    nation: Mapped[str] = mapped_column(String(3), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class LedgerEvent(Base):
    """One custody event. ``body`` is the canonical JSON that is hashed; other columns index it.

    On SQLite ``seq`` is declared INTEGER, the rowid itself (ledger_0008); ``batch_id`` has no
    index (a batch's events are read by their seq span, :mod:`coalition.ledger.checkpoints`)."""

    __tablename__ = "ledger_event"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    batch_id: Mapped[int] = mapped_column(BigInteger)
    time: Mapped[str] = mapped_column(String(32))
    nation: Mapped[str] = mapped_column(String(3), index=True)
    person: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerEventRef(Base):
    """What an event touches: ``S:<serial>``, ``L:<lot>``, ``M:<manifest>``, ``T:<title nation>``.

    Read by ``ref`` only (its key's first column); no index on ``seq`` (ledger_0008): an event's
    title nations come from its signed chain links (:func:`coalition.ledger.queries.titles`)."""

    __tablename__ = "ledger_event_ref"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key (ledger_0007)

    ref: Mapped[str] = mapped_column(String(90), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class LedgerBatch(Base):
    """Events of one nation (and counterparty) submitted together, signed once over the Merkle
    root of their leaf hashes; contiguous (``first_seq``, ``size``) or in ``runs``."""

    __tablename__ = "ledger_batch"

    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    nation: Mapped[str] = mapped_column(String(3))
    counterparty: Mapped[str | None] = mapped_column(String(3), nullable=True)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    time: Mapped[str] = mapped_column(String(32))
    keys_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # key log it commits to
    keys_head: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: a non-contiguous batch (one per nation per append call): its events' runs, canonical JSON
    #: ``[[first seq, length], ...]``, signed in its v3 statement; None for a contiguous batch
    runs: Mapped[str | None] = mapped_column(Text, nullable=True)


class LedgerKeyEvent(Base):
    """One signed key event (register / rotate / revoke); a hash chain of its own. History."""

    __tablename__ = "ledger_key_event"

    n: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    signatures: Mapped[str] = mapped_column(Text)  # JSON list of {role, key_id, signature}
    nation: Mapped[str] = mapped_column(String(3))
    key_id: Mapped[str] = mapped_column(String(40))


class LedgerSignature(Base):
    """A signature over a batch: the actor's, and for a handover the counterparty's."""

    __tablename__ = "ledger_signature"

    batch_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_batch.batch_id"), primary_key=True, autoincrement=False
    )
    role: Mapped[str] = mapped_column(String(12), primary_key=True)  # "actor" | "counterparty"
    key_id: Mapped[str] = mapped_column(String(40))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerNode(Base):
    """Hash of a complete, aligned Merkle subtree; stored only for levels 4, 8, 12, ..."""

    __tablename__ = "ledger_node"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key (ledger_0007)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(Base):
    """A signed statement by the log operator: the tree of ``size`` events has ``root``."""

    __tablename__ = "ledger_checkpoint"

    checkpoint_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    time: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(40))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    #: the note's nation-heads extension line (coalition.ledger.nationheads); None before ledger_0005
    heads: Mapped[str | None] = mapped_column(Text, nullable=True)


class LedgerCosignature(Base):
    """A witness cosignature (C2SP tlog-cosignature v1) returned by an independent witness."""

    __tablename__ = "ledger_cosignature"

    checkpoint_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("ledger_checkpoint.checkpoint_id"),
        primary_key=True,
        autoincrement=False,
    )
    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the witness's key name
    time: Mapped[str] = mapped_column(String(32))  # the cosignature timestamp (POSIX seconds)
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # timestamped_signature (72 bytes)
    note_key_id: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # C2SP 4-byte key ID

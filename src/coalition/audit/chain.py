"""The audit chain, pure: what an entry's hash covers, and how a chain is checked.

``entry_hash = SHA-256("coalition-audit-v1\\n" + prev_hash + "\\n" + canonical JSON of the
entry)``, where the entry includes its position ``seq``, so an edited field, a deleted entry
(the next one's ``prev_hash`` no longer matches, and ``seq`` has a gap) and two swapped entries
all break the chain at the first affected entry. Leaves of the Merkle tree are RFC 6962 leaf
hashes of the entry hashes; the tree, proofs and checkpoint statement are the custody ledger's
own (:mod:`coalition.ledger.merkle`, :mod:`coalition.ledger.rfc6962`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from coalition.ledger.canonical import canonical_json
from coalition.ledger.merkle import Tree
from coalition.ledger.rfc6962 import leaf_hash, merkle_root

DOMAIN = b"coalition-audit-v1\n"
GENESIS = "0" * 64
CHECKPOINT_LOG = "coalition-audit"  # the log name inside the signed checkpoint statement

FIELDS = (
    "seq",
    "at",
    "user_id",
    "user_name",
    "nation",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "note",
)


def utc_text(value: datetime) -> str:
    """One spelling of a stored time (SQLite returns naive UTC, PostgreSQL aware)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content(entry: Any) -> dict[str, Any]:
    """The hashed content of an entry (an ORM row or anything with the same attributes)."""
    out = {name: getattr(entry, name) for name in FIELDS}
    out["at"] = utc_text(out["at"])
    return out


def entry_hash(prev_hash: str, entry: Any) -> str:
    return hashlib.sha256(DOMAIN + prev_hash.encode("ascii") + b"\n" + canonical_json(content(entry))).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first entry at which the chain does not hold, and why."""

    seq: int
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry seq {self.seq}" + (f" (id {self.entry_id})" if self.entry_id else "")
        return f"{where}: {self.reason}"


def first_break(entries: Iterable[Any]) -> Break | None:
    """Walk entries in ``seq`` order; the first broken link, or None for an intact chain."""
    prev, expected = GENESIS, 1
    for e in entries:
        if e.seq is None or e.entry_hash is None:
            return Break(expected, e.id, "entry is not in the chain (no seq or hash)")
        if e.seq != expected:
            return Break(
                expected,
                e.id if e.seq > expected else None,
                f"entry seq {expected} is missing (next stored is seq {e.seq})"
                if e.seq > expected
                else f"seq {e.seq} out of order",
            )
        if e.prev_hash != prev:
            return Break(
                e.seq,
                e.id,
                "prev_hash does not match the previous entry's hash "
                "(an entry before it was deleted, reordered or rewritten)",
            )
        actual = entry_hash(prev, e)
        if actual != e.entry_hash:
            return Break(e.seq, e.id, "content does not match its hash (the entry was edited)")
        prev, expected = e.entry_hash, expected + 1
    return None


class LeafReader:
    """The ledger's :class:`~coalition.ledger.merkle.HashReader` over leaves held in memory:
    level 0 are the leaves, higher stored levels are computed from them on demand."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        if level == 0:
            return list(self.leaves[lo:hi])
        span = 1 << level
        out = []
        for i in range(lo, hi):
            chunk = self.leaves[i * span : (i + 1) * span]
            if len(chunk) != span:
                break
            out.append(merkle_root(chunk))
        return out


def leaves(entry_hashes: Iterable[str]) -> list[bytes]:
    return [leaf_hash(bytes.fromhex(h)) for h in entry_hashes]


def tree(entry_hashes: Sequence[str], size: int | None = None) -> Tree:
    lv = leaves(entry_hashes)
    return Tree(LeafReader(lv), len(lv) if size is None else size)

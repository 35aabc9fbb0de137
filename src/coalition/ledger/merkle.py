"""RFC 6962 Merkle tree over stored hashes: roots, inclusion and consistency proofs.

Pure logic over a :class:`HashReader` (the storage layer implements it; tests use a list).
Only complete, aligned subtrees at levels 0 (the event hashes), 4, 8, 12, ... are stored, so the
hash of any complete subtree costs one range read of at most 2**(STRIDE-1) stored hashes, and a
proof for any event of a 10,000,000-event log needs about 24 small range reads — no tree walk
over the whole log. The hashing primitives come from :mod:`coalition.ledger.rfc6962` so the
producer and the offline checker share one definition. (Hand-written because ``cryptography``
has no Merkle tree; see the docstring of :mod:`coalition.ledger.rfc6962`.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from coalition.ledger.rfc6962 import merkle_root, node_hash

STRIDE = 4  # store every 4th level: 1/15 of a node per event, reads of <= 8 hashes per subtree
EMPTY_ROOT = merkle_root([])


class HashReader(Protocol):
    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        """Stored hashes of ``level`` (a multiple of STRIDE; 0 = leaves), indices lo..hi-1."""
        ...


class ListHashes:
    """:class:`HashReader` over leaf hashes held in memory (a batch, a test): any level is
    computed from the leaves, so proofs work for every index and size (not only level 0)."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        if level == 0:
            return self.leaves[lo:hi]
        width = 1 << level
        out = []
        for i in range(lo, hi):
            part = self.leaves[i * width : (i + 1) * width]
            if len(part) != width:
                break  # an incomplete subtree is not stored: the caller reports it
            out.append(merkle_root(part))
        return out


class _Recorder:
    """A reader that records the ranges a walk asks for (answering placeholder hashes)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int, int]] = []

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        self.ranges.append((level, lo, hi))
        return [bytes(32)] * (hi - lo)


class _Fetched:
    """A reader over ranges fetched in advance (a range that was not fetched is a bug: raise)."""

    def __init__(self, got: dict[tuple[int, int, int], list[bytes]]) -> None:
        self.got = got

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        return self.got[(level, lo, hi)]


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """A read-only view of the first ``size`` leaves of a stored tree."""

    def __init__(self, reader: HashReader, size: int) -> None:
        self.reader = reader
        self.size = size

    def subtree(self, level: int, idx: int) -> bytes:
        """Hash of the complete subtree of height ``level`` whose leftmost leaf is idx << level."""
        base = (level // STRIDE) * STRIDE
        span = level - base
        hashes = self.reader.level_range(base, idx << span, (idx + 1) << span)
        if len(hashes) != 1 << span:
            raise LookupError(f"tree storage incomplete at level {base}, index {idx << span}")
        return merkle_root(hashes) if span else hashes[0]

    def mth(self, lo: int, hi: int) -> bytes:
        """Merkle tree hash of leaves lo..hi-1, where lo is aligned as RFC 6962 splits produce."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:
            level = n.bit_length() - 1
            return self.subtree(level, lo >> level)
        k = _largest_power_of_two_below(n)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def root(self) -> bytes:
        return self.mth(0, self.size)

    def inclusion_path(self, index: int) -> list[bytes]:
        """RFC 6962 §2.1.1 PATH(index, D[0:size]), leaf first.

        With a reader that can fetch many ranges at once (``level_ranges``, the database), every
        stored hash the path needs (O(log n) ranges of at most 8) is read in ONE round trip: a
        first pass records which ranges the walk reads, then the walk runs over what was fetched
        (in the spirit of C2SP tlog-tiles: a proof reads a fixed, small set of stored tiles)."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} outside a tree of size {self.size}")
        many = getattr(self.reader, "level_ranges", None)
        if many is None:
            return self._inclusion_path(index)
        plan = _Recorder()
        Tree(plan, self.size)._inclusion_path(index)
        fetched = many(plan.ranges)
        return Tree(_Fetched(dict(zip(plan.ranges, fetched, strict=True))), self.size)._inclusion_path(index)

    def _inclusion_path(self, index: int) -> list[bytes]:
        path: list[bytes] = []
        lo, hi, m = 0, self.size, index
        while hi - lo > 1:
            k = _largest_power_of_two_below(hi - lo)
            if m < k:
                path.append(self.mth(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.mth(lo, lo + k))
                lo, m = lo + k, m - k
        path.reverse()
        return path

    def consistency_path(self, first: int) -> list[bytes]:
        """RFC 6962 §2.1.2 PROOF(first, D[0:size])."""
        if not 0 <= first <= self.size:
            raise IndexError(f"tree size {first} outside 0..{self.size}")
        if first in (0, self.size):
            return []
        path: list[bytes] = []
        lo, hi, m, complete = 0, self.size, first, True
        while True:
            n = hi - lo
            if m == n:
                if not complete:
                    path.append(self.mth(lo, hi))
                break
            k = _largest_power_of_two_below(n)
            if m <= k:
                path.append(self.mth(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.mth(lo, lo + k))
                lo, m, complete = lo + k, m - k, False
        path.reverse()
        return path


def new_stored_nodes(
    old_size: int,
    new_leaves: list[bytes],
    read: Callable[[int, int, int], list[bytes]],
) -> list[tuple[int, int, bytes]]:
    """Stored nodes (level, idx, hash) completed when ``new_leaves`` extend a tree of ``old_size``.

    ``read(level, lo, hi)`` returns already-stored hashes; the new leaves and nodes made here are
    overlaid in memory, so a bulk append needs one small read per stored level.
    """
    new_size = old_size + len(new_leaves)
    out: list[tuple[int, int, bytes]] = []
    below_level, below_start, below = 0, old_size, new_leaves  # in-memory hashes of level below
    level = STRIDE
    fan = 1 << STRIDE
    while True:
        first, last = old_size >> level, new_size >> level
        if last <= first:
            break  # nothing new at this level, so nothing new above it either
        lo_child, hi_child = first * fan, last * fan
        if lo_child < below_start:
            children = read(below_level, lo_child, below_start) + below[: hi_child - below_start]
        else:
            children = below[lo_child - below_start : hi_child - below_start]
        made = []
        for i in range(last - first):
            made.append(merkle_root(children[i * fan : (i + 1) * fan]))
        out.extend((level, first + i, h) for i, h in enumerate(made))
        below_level, below_start, below = level, first, made
        level += STRIDE
    return out

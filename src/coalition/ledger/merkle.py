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

from collections.abc import Callable, Sequence
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


TILE = 1 << STRIDE  # stored hashes of one level under one stored node of the level above


def proof_tiles(index: int, size: int) -> list[tuple[int, int, int]]:
    """The ``(level, lo, hi)`` ranges of stored hashes that hold everything an inclusion proof
    of ``index`` in a tree of ``size`` reads: for every stored level, the tile (16 hashes under
    one stored node of the level above) holding the leaf's ancestor, and the last, partial tile of
    the right edge (the two may be the same). A complete sibling subtree of height ``h`` shares
    its parent with the leaf's ancestor, so its stored hashes lie in the ancestor's tile; the
    incomplete right-edge subtrees are the right edge's binary decomposition, whose stored hashes
    at each level lie in the last tile. Two ranges per level whatever the index: the query that
    fetches them has one shape per log size (the driver's statement cache keeps it compiled)."""
    out: list[tuple[int, int, int]] = []
    level = 0
    while (width := size >> level) > 0:
        mine = (index >> level) & ~(TILE - 1)
        out.append((level, mine, min(mine + TILE, width)))
        out.append((level, (width - 1) & ~(TILE - 1), width))
        level += STRIDE
    return out


class _Tiles:
    """A reader over fetched tiles; a range outside them (none for an inclusion proof, see
    :func:`proof_tiles`) is read from the underlying reader, so the answer is always right."""

    def __init__(self, ranges: list[tuple[int, int, int]], got: list[list[bytes]], reader: HashReader) -> None:
        self.tiles: dict[int, list[tuple[int, list[bytes]]]] = {}
        for (level, lo, _hi), hashes in zip(ranges, got, strict=True):
            self.tiles.setdefault(level, []).append((lo, hashes))
        self.reader = reader
        self.misses = 0

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        for start, hashes in self.tiles.get(level, ()):
            if start <= lo and hi <= start + len(hashes):
                return hashes[lo - start : hi - start]
        self.misses += 1
        return self.reader.level_range(level, lo, hi)


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
        """MTH of the whole tree: with a batching reader, one read of the right edge's tiles
        (the complete subtrees of the size's binary decomposition lie in the last tile of each
        stored level)."""
        many = getattr(self.reader, "level_ranges", None)
        if many is None or self.size == 0:
            return self.mth(0, self.size)
        tiles = proof_tiles(self.size - 1, self.size)[1::2]
        return Tree(_Tiles(tiles, many(tiles), self.reader), self.size).mth(0, self.size)

    def inclusion_path(self, index: int) -> list[bytes]:
        """RFC 6962 §2.1.1 PATH(index, D[0:size]), leaf first.

        With a reader that can fetch many ranges at once (``level_ranges``, the database), every
        stored hash the path needs is read in ONE round trip of a fixed shape: two tiles of at
        most 16 hashes per stored level (:func:`proof_tiles`, in the spirit of C2SP tlog-tiles),
        then the walk runs over them."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} outside a tree of size {self.size}")
        many = getattr(self.reader, "level_ranges", None)
        if many is None:
            return self._inclusion_path(index)
        tiles = proof_tiles(index, self.size)
        return Tree(_Tiles(tiles, many(tiles), self.reader), self.size)._inclusion_path(index)

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


def path_in(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 PATH(index, leaves) of leaf hashes held in memory (a batch's events): each
    sibling is the root of its slice, so the whole path costs fewer than ``len(leaves)`` hashes
    (walking :class:`ListHashes` recomputes the stored levels' nodes for every subtree read)."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} outside a tree of size {len(leaves)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            path.append(merkle_root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(merkle_root(leaves[lo : lo + k]))
            lo += k
    path.reverse()
    return path


def stored_reads(old_size: int, new_size: int) -> list[tuple[int, int, int]]:
    """The ``(level, lo, hi)`` ranges of already-stored hashes that :func:`new_stored_nodes`
    reads when a tree of ``old_size`` grows to ``new_size``: for every stored level that gains a
    node, the children of that node which were stored before (all known up front, so they can be
    fetched in one batched read)."""
    out: list[tuple[int, int, int]] = []
    level = STRIDE
    while (new_size >> level) > (old_size >> level):
        lo, hi = (old_size >> level) << STRIDE, old_size >> (level - STRIDE)
        if lo < hi:
            out.append((level - STRIDE, lo, hi))
        level += STRIDE
    return out


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

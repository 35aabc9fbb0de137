"""RFC 6962 / RFC 9162 Merkle tree hashing and proof checking (stdlib only).

Why hand-written: ``cryptography`` offers SHA-256 and Ed25519 but no Merkle tree, and the
CT-specific libraries are either unmaintained or pull in network clients. The algorithms are short
and specified exactly in RFC 6962 §2.1 / RFC 9162 §2.1.3-2.1.4. Part of the offline verifier; the
log's stored tree (:mod:`coalition.ledger.merkle`) uses the same primitives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (pairing bottom-up and promoting an odd last node gives the
    same tree as RFC 6962's split at the largest power of two)."""
    if not leaves:
        return _sha256(b"").digest()
    level = list(leaves)
    sha = _sha256
    while len(level) > 1:
        # node_hash inlined: this loop is most of the cost of checking a batch root
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class Frontier:
    """Incremental Merkle tree: the complete subtrees on the right edge; root at any size."""

    __slots__ = ("stack", "size", "keep_height", "kept")

    def __init__(self, keep_height: int | None = None) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
        self.size = 0
        self.keep_height = keep_height
        self.kept: list[bytes] = []  # every complete subtree of keep_height, left to right

    def add(self, leaf: bytes) -> None:
        stack = self.stack
        height, h = 0, leaf
        while stack and stack[-1][0] == height:
            h = _sha256(b"\x01" + stack.pop()[1] + h).digest()  # node_hash, inlined (hot)
            height += 1
            if height == self.keep_height:
                self.kept.append(h)
        stack.append((height, h))
        self.size += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """``add`` each leaf, in order, hashing aligned blocks level by level (one list
        comprehension per level instead of a Python loop per leaf: the verifier's hot path).
        Same stack, size and kept subtrees as adding them one at a time (a test checks it)."""
        sha, i, n = _sha256, 0, len(leaves)
        keep = self.keep_height
        while i < n:
            size, left = self.size, n - i
            k = 0  # the largest aligned perfect block that fits: size % 2^k == 0 and 2^k <= left
            while (size >> k) & 1 == 0 and (2 << k) <= left and k < 62:
                k += 1
            if k < 2:
                self.add(leaves[i])
                i += 1
                continue
            level = list(leaves[i : i + (1 << k)])
            for height in range(1, k + 1):
                level = [sha(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=True)]
                if height == keep:
                    self.kept.extend(level)
            h, height, stack = level[0], k, self.stack
            while stack and stack[-1][0] == height:
                h = sha(b"\x01" + stack.pop()[1] + h).digest()
                height += 1
                if height == keep:
                    self.kept.append(h)
            stack.append((height, h))
            self.size += 1 << k
            i += 1 << k

    def graft(self, pieces: Sequence[tuple[int, bytes]], kept: Sequence[bytes] = ()) -> None:
        """Append complete subtrees computed elsewhere (:func:`subtrees` of the leaves that
        follow, from this frontier's size, with this frontier's ``keep_height``): the same
        stack, size and kept subtrees as adding those leaves here (a test checks it). Raises
        ValueError for a piece that is not aligned where it lands."""
        stack, keep = self.stack, self.keep_height
        for height, h in pieces:
            if self.size % (1 << height):
                raise ValueError(f"a subtree of height {height} does not fit at size {self.size}")
            self.size += 1 << height
            while stack and stack[-1][0] == height:
                h = _sha256(b"\x01" + stack.pop()[1] + h).digest()
                height += 1
                if height == keep:
                    self.kept.append(h)  # spans the graft point: precedes every kept piece
            stack.append((height, h))
        self.kept.extend(kept)

    def copy(self) -> Frontier:
        """The same stack and size (the kept subtrees are not copied)."""
        other = Frontier()
        other.stack, other.size = list(self.stack), self.size
        return other

    def root(self) -> bytes:
        if not self.stack:
            return _sha256(b"").digest()
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def subtrees(
    start: int, leaves: Sequence[bytes], keep_height: int | None = None
) -> tuple[list[tuple[int, bytes]], list[bytes]]:
    """The leaves of a tree from index ``start`` on, as the largest complete subtrees aligned in
    the whole tree, left to right: ``[(height, hash), ...]`` for :meth:`Frontier.graft`, and
    every complete subtree of ``keep_height`` inside them. Hashed level by level, one list
    comprehension per level (a worker's share of the verifier's tree work)."""
    sha, pieces, kept = _sha256, [], []
    pos, i, n = start, 0, len(leaves)
    while i < n:
        k = 0  # the largest k with pos % 2^k == 0 and 2^k <= what is left
        while (pos >> k) & 1 == 0 and (2 << k) <= n - i and k < 62:
            k += 1
        level = list(leaves[i : i + (1 << k)])
        for height in range(1, k + 1):
            level = [sha(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=True)]
            if height == keep_height:
                kept.extend(level)
        pieces.append((k, level[0]))
        pos += 1 << k
        i += 1 << k
    return pieces, kept


def verify_inclusion(leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove leaf ``index`` is in the tree of ``root``?"""
    if index < 0 or index >= tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``path`` prove the tree of ``second`` extends that of ``first``?"""
    if first < 0 or second < first:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # the empty tree is a prefix of every tree
    path = list(path)
    if not path:
        return False
    if first & (first - 1) == 0:  # exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root

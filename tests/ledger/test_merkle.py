"""The stored-tree walk (coalition.ledger.merkle): an inclusion proof reads only the two tiles
per stored level that ``proof_tiles`` names, in one batched read, and equals the plain walk."""

from __future__ import annotations

import hashlib
import random

import pytest

from coalition.ledger.merkle import STRIDE, ListHashes, Tree, new_stored_nodes, path_in, proof_tiles, stored_reads
from coalition.ledger.rfc6962 import merkle_root, verify_inclusion


class _Batched:
    """An in-memory store of the levels the database stores (0, 4, 8, ...: complete nodes only)
    that also answers ``level_ranges`` as the database does, and counts the single reads made
    outside a batch: reads the tiles did not cover."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = {0: leaves}
        level = STRIDE
        while len(leaves) >> level:
            below = self.levels[level - STRIDE]
            self.levels[level] = [merkle_root(below[i : i + 16]) for i in range(0, len(below) - 15, 16)]
            level += STRIDE
        self.batches = 0
        self.misses = 0

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        self.misses += 1
        return self.levels[level][lo:hi]

    def level_ranges(self, ranges: list[tuple[int, int, int]]) -> list[list[bytes]]:
        self.batches += 1
        return [self.levels[level][lo:hi] for level, lo, hi in ranges]


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(b"%d" % i).digest() for i in range(n)]


def test_every_proof_of_small_trees_is_served_by_its_tiles() -> None:
    leaves = _leaves(100)
    for size in range(1, 101):
        store = _Batched(leaves[:size])
        plain = Tree(ListHashes(leaves[:size]), size)
        root = merkle_root(leaves[:size])
        for i in range(size):
            path = Tree(store, size).inclusion_path(i)
            assert path == plain.inclusion_path(i), (size, i)
            assert verify_inclusion(leaves[i], i, size, path, root)
        assert store.misses == 0 and store.batches == size, size


@pytest.mark.parametrize("size", [4096, 4097, 65535, 65536, 69_999, 70_001])
def test_proofs_of_larger_trees_read_nothing_outside_their_tiles(size: int) -> None:
    leaves = _leaves(size)
    store = _Batched(leaves)
    root = merkle_root(leaves)
    rng = random.Random(size)
    for i in {0, size - 1, size // 2, *(rng.randrange(size) for _ in range(20))}:
        path = Tree(store, size).inclusion_path(i)
        assert verify_inclusion(leaves[i], i, size, path, root)
    assert store.misses == 0


def test_tiles_are_two_per_stored_level_within_the_tree() -> None:
    tiles = proof_tiles(123_456, 10_000_000)
    assert [t[0] for t in tiles] == [0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20]
    for level, lo, hi in tiles:
        assert lo % 16 == 0 and 0 < hi - lo <= 16 and hi <= 10_000_000 >> level
    assert tiles[0] == (0, 123_456 & ~15, (123_456 & ~15) + 16)
    assert tiles[1] == (0, (10_000_000 - 1) & ~15, 10_000_000)


def test_stored_reads_are_exactly_the_reads_of_an_extension() -> None:
    """The ranges an append prefetches in one query are the ones the extension then reads."""
    leaves = _leaves(5000)
    store = _Batched(leaves)
    rng = random.Random(5)
    pairs = [(0, 1), (15, 16), (16, 17), (255, 256), (4095, 4096), (4000, 4100), (1, 4999)]
    pairs += [tuple(sorted(rng.sample(range(5001), 2))) for _ in range(200)]
    for old, new in pairs:
        asked: list[tuple[int, int, int]] = []

        def read(level: int, lo: int, hi: int) -> list[bytes]:
            asked.append((level, lo, hi))  # noqa: B023 - used within this iteration only
            return store.levels[level][lo:hi]

        nodes = new_stored_nodes(old, leaves[old:new], read)
        assert asked == stored_reads(old, new), (old, new)
        for level, idx, h in nodes:
            assert store.levels[level][idx] == h


def test_path_in_a_list_is_the_walk_of_that_list() -> None:
    """The batch proof's one-pass path equals the stored-tree walk over the same leaves."""
    leaves = _leaves(70)
    for size in range(1, 71):
        root = merkle_root(leaves[:size])
        for i in range(size):
            path = path_in(leaves[:size], i)
            assert path == Tree(ListHashes(leaves[:size]), size).inclusion_path(i)
            assert verify_inclusion(leaves[i], i, size, path, root)
    with pytest.raises(IndexError):
        path_in(leaves[:3], 3)


@pytest.mark.parametrize("sizes", [range(1, 300), [4095, 4096, 4097, 65535, 65536, 69_999]])
def test_the_root_is_one_read_of_the_right_edge(sizes: range | list[int]) -> None:
    leaves = _leaves(max(sizes))
    store = _Batched(leaves)
    for size in sizes:
        assert Tree(store, size).root() == merkle_root(leaves[:size]), size
    assert store.misses == 0 and store.batches == len(sizes)

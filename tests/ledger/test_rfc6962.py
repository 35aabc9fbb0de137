"""RFC 6962 hashing and proofs (coalition.ledger.rfc6962) and the stored tree layout
(coalition.ledger.merkle): Certificate Transparency vectors and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.ledger.merkle import Tree, new_stored_nodes
from coalition.ledger.rfc6962 import Frontier, leaf_hash, merkle_root, subtrees, verify_consistency, verify_inclusion

# RFC 6962 test data used by the Certificate Transparency implementations (leaf inputs and the
# roots of the trees of the first n leaves).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


class Mem:
    """In-memory tree storage with the same stride layout as the database."""

    def __init__(self) -> None:
        self.levels: dict[int, list[bytes]] = {0: []}

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        return self.levels.get(level, [])[lo:hi]

    def extend(self, leaves: list[bytes]) -> None:
        nodes = new_stored_nodes(len(self.levels[0]), leaves, self.level_range)
        self.levels[0] += leaves
        for level, idx, h in nodes:
            row = self.levels.setdefault(level, [])
            assert len(row) == idx
            row.append(h)


def test_rfc6962_roots() -> None:
    leaves = [leaf_hash(d) for d in CT_LEAVES]
    for n, want in enumerate(CT_ROOTS, 1):
        assert merkle_root(leaves[:n]).hex() == want
        f = Frontier()
        for x in leaves[:n]:
            f.add(x)
        assert f.root().hex() == want
    assert merkle_root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12), st.data())
def test_stored_tree_proofs_verify_and_reject_tampering(chunks: list[int], data: st.DataObject) -> None:
    mem, leaves = Mem(), []
    for k in chunks:
        new = [leaf_hash(str(len(leaves) + i).encode()) for i in range(k)]
        mem.extend(new)
        leaves += new
    n = len(leaves)
    tree = Tree(mem, n)
    root = tree.root()
    assert root == merkle_root(leaves)
    i = data.draw(st.integers(0, n - 1))
    path = tree.inclusion_path(i)
    assert verify_inclusion(leaves[i], i, n, path, root)
    assert not verify_inclusion(leaf_hash(b"forged"), i, n, path, root)
    if n > 1:
        assert not verify_inclusion(leaves[i], (i + 1) % n, n, path, root)
    m = data.draw(st.integers(0, n))
    cpath = tree.consistency_path(m)
    old_root = Tree(mem, m).root()
    assert verify_consistency(m, n, old_root, root, cpath)
    if 0 < m < n:
        assert not verify_consistency(m, n, leaf_hash(b"other history"), root, cpath)
        assert not verify_consistency(m, n, old_root, leaf_hash(b"other"), cpath)


class ManyMem(Mem):
    """Storage that also answers many ranges at once, counting round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.trips = 0

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        self.trips += 1
        return super().level_range(level, lo, hi)

    def level_ranges(self, ranges: list[tuple[int, int, int]]) -> list[list[bytes]]:
        self.trips += 1
        return [Mem.level_range(self, *r) for r in ranges]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 700), st.data())
def test_inclusion_path_in_one_round_trip_equals_the_walk(n: int, data: st.DataObject) -> None:
    mem, many = Mem(), ManyMem()
    leaves = [leaf_hash(str(i).encode()) for i in range(n)]
    mem.extend(leaves)
    many.extend(leaves)
    i = data.draw(st.integers(0, n - 1))
    many.trips = 0
    path = Tree(many, n).inclusion_path(i)
    assert many.trips == 1
    assert path == Tree(mem, n).inclusion_path(i)
    assert verify_inclusion(leaves[i], i, n, path, merkle_root(leaves))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=6), st.integers(min_value=0, max_value=6))
def test_frontier_extend_equals_adding_leaf_by_leaf(chunks: list[int], keep: int) -> None:
    """The verifier extends the frontier a chunk at a time (aligned blocks hashed level by level):
    stack, size, root at every chunk end and the kept subtrees equal adding leaf by leaf."""
    one, bulk = Frontier(keep_height=keep), Frontier(keep_height=keep)
    n = 0
    for c in chunks:
        leaves = [leaf_hash(b"%d" % (n + i)) for i in range(c)]
        n += c
        for x in leaves:
            one.add(x)
        bulk.extend(leaves)
        assert (bulk.stack, bulk.size, bulk.kept, bulk.root()) == (one.stack, one.size, one.kept, one.root())
    assert bulk.root() == merkle_root([leaf_hash(b"%d" % i) for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=6), st.integers(min_value=0, max_value=6))
def test_grafting_subtrees_equals_adding_leaf_by_leaf(chunks: list[int], keep: int) -> None:
    """A worker hashes its chunk's leaves as aligned subtrees (subtrees) without the tree
    before them; grafted in order they give the stack, size, root and kept subtrees of adding
    the leaves one at a time."""
    one, grafted = Frontier(keep_height=keep), Frontier(keep_height=keep)
    n = 0
    for c in chunks:
        leaves = [leaf_hash(b"%d" % (n + i)) for i in range(c)]
        pieces, kept = subtrees(n, leaves, keep)
        n += c
        for x in leaves:
            one.add(x)
        grafted.graft(pieces, kept)
        assert (grafted.stack, grafted.size, grafted.kept, grafted.root()) == (
            one.stack,
            one.size,
            one.kept,
            one.root(),
        )


def test_a_subtree_that_does_not_fit_is_refused() -> None:
    f = Frontier()
    f.add(leaf_hash(b"0"))
    with pytest.raises(ValueError, match="does not fit"):
        f.graft([(1, leaf_hash(b"x"))])  # a height-1 subtree cannot start at leaf 1

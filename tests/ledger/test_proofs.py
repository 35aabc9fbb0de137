"""Proofs on a bulk-imported ledger (batches of 1,000) against an independent RFC 6962 reference.

The reference below is written from the text of RFC 6962 §2.1 (MTH, PATH, PROOF/SUBPROOF) as
plain recursion over the leaf hashes, sharing no code with ``coalition.ledger.merkle``; leaf hashes
are recomputed here from the stored bodies with ``hashlib``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select

from coalition.ledger import checkpoints, export, service
from coalition.ledger.models import LedgerEvent
from coalition.ledger.rfc6962 import verify_consistency, verify_inclusion
from coalition.ledger.verifier import verify_bundle

from .ledger_helpers import Ledger, ev

N = 2_345  # three batches: 1,000 + 1,000 + 345


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Rfc6962:
    """RFC 6962 §2.1, literally."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.d = leaves

        @cache
        def mth(lo: int, hi: int) -> bytes:
            n = hi - lo
            if n == 0:
                return hashlib.sha256(b"").digest()
            if n == 1:
                return self.d[lo]
            k = _k(n)
            return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()

        self.mth = mth

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return self._subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self._subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]


@pytest.fixture
def bulk(ledger: Ledger) -> Ledger:
    events = [
        ev(
            "manifest",
            "GBR" if i % 7 else "DEU",
            {
                "manifest": f"BM-{i}",
                "origin": "HOME",
                "destination": "UA-LVIV/LV-D1/SH-1",
                "receiver": "FRA",
                "serials": [{"serial": f"BULK-{i}", "item_type": "ATGM-LAUNCHER"}],
            },
        )
        for i in range(N)
    ]
    # one nation per run so batches fill up to 1,000: GBR events first, then DEU
    events.sort(key=lambda e: e.nation != "GBR")
    with ledger.session() as s:
        res = service.append_events(
            s, events=events, signer=ledger.signer, trust=ledger.trust, timing=service.AppendTiming(max_batch=1000)
        )
    assert res.count == N
    with ledger.session() as s:
        checkpoints.make_checkpoint(s, keyring=ledger.keyring)
    return ledger


def _leaves(ledger: Ledger) -> list[bytes]:
    with ledger.session() as s:
        bodies = s.scalars(select(LedgerEvent.body).order_by(LedgerEvent.seq)).all()
    return [hashlib.sha256(b"\x00" + b.encode("utf-8")).digest() for b in bodies]


def test_inclusion_proofs_for_every_event_match_the_reference(bulk: Ledger) -> None:
    leaves = _leaves(bulk)
    ref = Rfc6962(leaves)
    with bulk.session() as s:
        batches = {}
        for seq in range(1, N + 1):
            p = checkpoints.inclusion_proof(s, seq=seq)
            assert p.tree_size == N and p.root == ref.mth(0, N)
            assert list(p.path) == ref.path(seq - 1, 0, N), seq
            assert verify_inclusion(leaves[seq - 1], seq - 1, N, p.path, p.root)
            first = seq - p.batch_index
            bref = batches.setdefault(p.batch_id, Rfc6962(leaves[first - 1 : first - 1 + p.batch_size]))
            assert list(p.batch_path) == bref.path(p.batch_index, 0, p.batch_size), seq
            assert p.batch_root == bref.mth(0, p.batch_size)
    assert sorted(len(b.d) for b in batches.values()) == [10, 335, 1000, 1000]  # GBR 1,000 + 1,000 + 10, then DEU 335


def test_inclusion_and_consistency_at_other_tree_sizes(bulk: Ledger) -> None:
    leaves = _leaves(bulk)
    ref = Rfc6962(leaves)
    with bulk.session() as s:
        for size in (1, 16, 17, 1000, 1001, 1024, 1500, 2048, N):
            t = service.tree(s, size)
            assert t.root() == ref.mth(0, size)
            for m in sorted({0, 15, 16, 17, 999, 1000, size // 2, size - 1} & set(range(size))):
                assert t.inclusion_path(m) == ref.path(m, 0, size)
            big = service.tree(s, N)
            for first in sorted({1, 15, 16, 17, 1000, 1001, size - 1, size} & set(range(1, size + 1))):
                path = service.tree(s, size).consistency_path(first)
                assert path == ref.proof(first, size), (first, size)
                assert verify_consistency(first, size, ref.mth(0, first), ref.mth(0, size), path)
            assert big.consistency_path(size) == ref.proof(size, N)


def test_donor_export_and_cli_proof_work_on_bulk_ledger(bulk: Ledger, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coalition.cli.main import app

    with bulk.session() as s:
        export.export_bundle(s, directory=tmp_path / "deu", keyring=bulk.keyring, donor="DEU")
    rep = verify_bundle(tmp_path / "deu")
    assert rep.ok, rep.findings[:5]
    assert rep.events == 335
    r = CliRunner().invoke(app, ["ledger", "proof", "1017", "--database-url", bulk.url, "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "valid" in r.output and "INVALID" not in r.output


def test_failed_export_leaves_no_half_written_bundle(
    bulk: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the German donor: 335 events (inclusion proofs) to export instead of Britain's 2,010, still
    # well over the 50 proofs after which the exports below fail
    tmp_path = tmp_path / "out"
    target = tmp_path / "deu"
    with bulk.session() as s:
        export.export_bundle(s, directory=target, keyring=bulk.keyring, donor="DEU")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    calls = {"n": 0}
    real = export.inclusion_proof

    def dying(*a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 50:
            raise OSError("disk full (simulated)")
        return real(*a, **k)

    monkeypatch.setattr(export, "inclusion_proof", dying)
    with bulk.session() as s, pytest.raises(OSError):
        export.export_bundle(s, directory=target, keyring=bulk.keyring, donor="DEU")
    with bulk.session() as s, pytest.raises(OSError):
        calls["n"] = 0
        export.export_bundle(s, directory=tmp_path / "new", keyring=bulk.keyring, donor="DEU")
    assert calls["n"] > 50  # both failed inside the proofs, as the simulated disk fault says
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # the old bundle is intact
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deu"]  # no temporary folder left behind

"""coalition.ledger.bundles: the custody bundle as one zip, verifiable offline once unzipped."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from coalition.errors import ConflictError
from coalition.ledger.bundles import bundle_zip, keyring_of
from coalition.ledger.keys import DEMO_PASSPHRASE
from coalition.ledger.verifier import verify_bundle

from .ledger_helpers import Ledger, shipped


def settings(keys: Path, tmp: Path) -> SimpleNamespace:
    return SimpleNamespace(demo_keystore=keys, demo_passphrase=DEMO_PASSPHRASE, trust_path=tmp / "no-trust.json")


def test_without_keys_the_bundle_is_refused_saying_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(ConflictError, match="coalition ledger init"):
        keyring_of(settings(tmp_path / "absent", tmp_path))


def _unzip(data: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert all("/" not in n and not n.startswith(".") for n in names), names  # flat: no path tricks
        zf.extractall(into)
    return into


def test_the_zip_is_the_export_folder_and_verifies_offline(ledger: Ledger, tmp_path: Path) -> None:
    shipped(ledger)
    shipped(ledger, name="M2", nation="DEU", serials=2, lot_qty=0)
    with ledger.session() as s:
        whole, meta = bundle_zip(s, settings(ledger.keys_dir, tmp_path), donor=None)
        gbr, gbr_meta = bundle_zip(s, settings(ledger.keys_dir, tmp_path), donor="GBR")
    folder = _unzip(whole, tmp_path / "all")
    assert (folder / "events.jsonl").exists()
    assert verify_bundle(folder, ledger.trust).ok
    events = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    assert len(events) == 6 and isinstance(meta, dict)
    donor = _unzip(gbr, tmp_path / "gbr")
    rep = verify_bundle(donor, ledger.trust)
    assert rep.ok, rep.findings
    mine = [json.loads(x) for x in (donor / "events.jsonl").read_text().splitlines()]
    assert mine and all("GBR" in e["chain"] for e in mine) and len(mine) < len(events)
    assert gbr_meta != meta

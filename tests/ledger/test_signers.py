"""Nations sign for themselves: a key in a real SoftHSM2 token (PKCS#11), encrypted key files,
and the prepare → ``coalition sign`` → import round trip through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.errors import InputError
from coalition.ledger.batches import LocalSigner
from coalition.ledger.keyevents import KeyChange, append_key_event
from coalition.ledger.keys import DEMO_PASSPHRASE, KeyRing
from coalition.ledger.models import LedgerSignature
from coalition.ledger.signers import Pkcs11Signer, generate_pkcs11_key
from coalition.ledger.checks import check_signature

from .ledger_helpers import Ledger, manifest

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "4321"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh SoftHSM2 token (Debian's softhsm2, installed by `make test`)."""
    if shutil.which("softhsm2-util") is None or not Path(MODULE).exists():
        pytest.fail("SoftHSM2 is not installed: run `make softhsm2` (part of `make test`)")
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "gbr-token", "--pin", PIN,
                    "--so-pin", "87654321"], check=True, capture_output=True)
    pub = generate_pkcs11_key(module=MODULE, token_label="gbr-token", pin=PIN, key_label="GBR-k2")
    yield {"conf": str(conf), "pub": pub.hex()}
    mp.undo()


def test_softhsm2_key_signs_custody_events_after_a_rotation_signed_by_the_old_key(ledger: Ledger, token) -> None:  # type: ignore[no-untyped-def]
    hsm = Pkcs11Signer(module=MODULE, token_label="gbr-token", pin=PIN, key_label="GBR-k2")
    try:
        assert hsm.public_key().hex() == token["pub"]
        both = KeyRing({"GBR-k1": ledger.keyring.signer("GBR-k1"), "GBR-k2": hsm})
        with ledger.session() as s:
            append_key_event(s, KeyChange("rotate", "GBR-k2", "GBR", hsm.public_key(), replaces="GBR-k1"),
                             keyring=both, trust=ledger.trust)
        workstation = KeyRing({"GBR-k2": hsm})  # GBR's machine: only its token
        ledger.append(manifest("MH", "GBR", 2, 0, prefix="GBR-H"), signer=LocalSigner(workstation))
        with ledger.session() as s:
            kid = s.scalar(select(LedgerSignature.key_id).order_by(LedgerSignature.batch_id.desc()).limit(1))
        assert kid == "GBR-k2"
        rep = ledger.verify()
        assert rep.ok, rep.findings
    finally:
        hsm.close()


def test_wrong_pin_and_missing_key_are_clear_errors(token) -> None:  # type: ignore[no-untyped-def]
    from coalition.errors import NotFoundError

    with pytest.raises(InputError, match="wrong PIN"):
        Pkcs11Signer(module=MODULE, token_label="gbr-token", pin="0000", key_label="GBR-k2")
    with pytest.raises(NotFoundError, match="no single Ed25519 key"):
        Pkcs11Signer(module=MODULE, token_label="gbr-token", pin=PIN, key_label="nope")


def test_a_token_key_that_may_not_sign_is_refused_when_opened(token) -> None:  # type: ignore[no-untyped-def]
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism

    with pkcs11.lib(MODULE).get_token(token_label="gbr-token").open(rw=True, user_pin=PIN) as session:
        params = session.create_domain_parameters(
            KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: bytes.fromhex("06032b6570")}, local=True)
        params.generate_keypair(store=True, label="GBR-nosign", mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                                private_template={Attribute.SIGN: False})
    with pytest.raises(InputError, match="may not sign"):
        Pkcs11Signer(module=MODULE, token_label="gbr-token", pin=PIN, key_label="GBR-nosign")


def test_coalition_sign_with_a_pkcs11_token(token, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    statement = b'{"kind":"coalition-ledger/batch/v2","test":1}'
    prepared = tmp_path / "prepared.json"
    prepared.write_text(json.dumps({"statements": [
        {"batch": 0, "role": "actor", "nation": "GBR", "key_id": "GBR-k2", "statement": statement.decode()},
        {"batch": 0, "role": "counterparty", "nation": "FRA", "key_id": "FRA-k1", "statement": statement.decode()}]}))
    monkeypatch.setenv("COALITION_PKCS11_PIN", PIN)
    r = CliRunner().invoke(app, ["sign", str(prepared), "--key-id", "GBR-k2", "--pkcs11-module", MODULE,
                                 "--token", "gbr-token", "--key-label", "GBR-k2", "--out", str(tmp_path / "s.json")])
    assert r.exit_code == 0, r.output
    sigs = json.loads((tmp_path / "s.json").read_text())["signatures"]
    assert len(sigs) == 1 and sigs[0]["role"] == "actor"  # FRA's statement is not GBR's to sign
    assert check_signature(bytes.fromhex(token["pub"]), bytes.fromhex(sigs[0]["signature"]), statement)


class _Res:
    def __init__(self, code: int, output: str) -> None:
        self.exit_code, self.output = code, output


def _cli(*args: str) -> _Res:
    """In-process, with the exit-code mapping of coalition.cli.main.run (2 input, 1 other)."""
    from coalition.errors import CoalitionError

    res = CliRunner().invoke(app, list(args))
    exc = res.exception
    if isinstance(exc, InputError):
        return _Res(2, res.output + str(exc))
    if isinstance(exc, CoalitionError):
        return _Res(1, res.output + str(exc))
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return _Res(res.exit_code, res.output)


def test_prepare_sign_import_round_trip_without_the_server_holding_the_counterparty_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("COALITION_DATA_DIR", str(data))
    monkeypatch.delenv("COALITION_DATABASE_URL", raising=False)
    assert _cli("ledger", "init", "--no-sample").exit_code == 0
    ship = tmp_path / "ship.jsonl"
    ship.write_text("\n".join(json.dumps(e) for e in [
        {"type": "manifest", "nation": "GBR", "person": "p", "payload": {
            "manifest": "M1", "origin": "GBR-HOME", "destination": "UA-LVIV/LV-D1/SH-1", "receiver": "FRA",
            "serials": [{"serial": "GBR-Q1", "item_type": "ATGM-LAUNCHER"}]}},
        {"type": "dispatch", "nation": "GBR", "person": "p", "payload": {"manifest": "M1"}}]) + "\n")
    r = _cli("ledger", "import", str(ship))
    assert r.exit_code == 0, r.output
    receipt = tmp_path / "receipt.jsonl"
    receipt.write_text(json.dumps({"type": "receipt", "nation": "FRA", "person": "p", "payload": {
        "manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1", "serials": ["GBR-Q1"]}}) + "\n")
    # without GBR's countersignature the receipt is refused, and says who must sign
    r = _cli("ledger", "import", str(receipt))
    assert r.exit_code == 1 and "signatures needed from GBR (counterparty" in r.output.replace("\n", " ")
    r = _cli("ledger", "prepare", str(receipt), "--out", str(tmp_path / "prep.json"))
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("COALITION_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    for kid in ("GBR-k1", "FRA-k1"):  # each nation on its own workstation, with its own key file
        r = _cli("sign", str(tmp_path / "prep.json"), "--key-id", kid, "--key-file", str(data / "keys" / f"{kid}.pem"),
                 "--out", str(tmp_path / f"{kid}.sig.json"))
        assert r.exit_code == 0, r.output
    r = _cli("ledger", "import", str(receipt), "--signatures", str(tmp_path / "GBR-k1.sig.json"),
             "--signatures", str(tmp_path / "FRA-k1.sig.json"))
    assert r.exit_code == 0, r.output
    r = _cli("ledger", "verify")
    assert r.exit_code == 0 and "OK" in r.output, r.output

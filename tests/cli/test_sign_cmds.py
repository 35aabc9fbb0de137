"""coalition.cli.sign_cmds: a workstation signs the statements prepared for its own key (real
Ed25519 signatures, checked here), and refuses anything else naming the file and field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from coalition.cli.sign_cmds import _read, _sign_checkpoint, _sign_statements, _signer
from coalition.errors import InputError
from coalition.ledger.keys import KeyRing


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("sign-keys")
    return KeyRing.generate(d, ["GBR"]).signer("GBR-k1")


def statements(*items: dict[str, object]) -> str:
    return json.dumps({"statements": list(items)})


def test_only_the_statements_for_this_key_are_signed_and_the_signatures_verify(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = statements(
        {"statement": "batch 1 GBR", "key_id": "GBR-k1", "role": "consignor", "time": "t1"},
        {"statement": "batch 1 FRA", "key_id": "FRA-k1", "role": "consignee"},
    )
    out = _sign_statements(text, tmp_path / "s.json", "GBR-k1", signer)
    (sig,) = out["signatures"]
    assert sig["statement_sha256"] == hashlib.sha256(b"batch 1 GBR").hexdigest()
    assert (sig["role"], sig["key_id"], sig["time"]) == ("consignor", "GBR-k1", "t1")
    Ed25519PublicKey.from_public_bytes(signer.public_key()).verify(bytes.fromhex(str(sig["signature"])), b"batch 1 GBR")


def test_statement_files_that_are_not_for_this_key_or_malformed_are_refused(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.json"
    with pytest.raises(InputError) as err:
        _sign_statements(statements({"statement": "x", "key_id": "FRA-k1"}), path, "GBR-k1", signer)
    assert err.value.problems[0].field == "--key-id"
    with pytest.raises(InputError) as err:
        _sign_statements(statements({"key_id": "GBR-k1"}), path, "GBR-k1", signer)
    assert err.value.problems[0].field == "statements[0]"
    for bad in ("{not json", json.dumps({"statements": "x"}), json.dumps({"other": []})):
        with pytest.raises(InputError) as err:
            _sign_statements(bad, path, "GBR-k1", signer)
        assert "not a prepared-statements file" in err.value.problems[0].message
        assert err.value.problems[0].file == str(path)


def test_a_checkpoint_that_does_not_parse_is_refused(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        _sign_checkpoint("not a checkpoint\n", tmp_path / "c.txt", "GBR-k1", signer)
    assert err.value.problems[0].file == str(tmp_path / "c.txt")


def test_exactly_one_key_source_is_needed() -> None:
    with pytest.raises(InputError, match="exactly one key"):
        _signer(None, None, None, None)
    with pytest.raises(InputError, match="exactly one key"):
        _signer(Path("k.pem"), "/lib/x.so", None, None)
    with pytest.raises(InputError, match="--token and --key-label"):
        _signer(None, "/lib/x.so", "token", None)


def test_the_input_must_exist_and_be_utf8(tmp_path: Path) -> None:
    f = tmp_path / "in.json"
    f.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        _read(f)
    with pytest.raises(InputError, match="file not found"):
        _read(tmp_path / "absent")
    f.write_text("{}", "utf-8")
    assert _read(f) == "{}"

"""coalition.cli.witness_cmds' HTTP handler in front of a real witness: only add-checkpoint and
<origin hash>/checkpoint exist, a body needs a Content-Length up to 1 MB, and the witness's own
answers pass through. ``keygen``/``serve`` run through tests/ledger/test_witness.py."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coalition.cli.witness_cmds import MAX_BODY, _handler
from coalition.ledger.signers import MemorySigner
from coalition.ledger.witness import Witness, WitnessState


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    witness = Witness(
        name="witness.test/w1",
        signer=MemorySigner(Ed25519PrivateKey.generate()),
        logs=[],
        state=WitnessState(tmp_path / "w.db"),
    )
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(witness))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", int(srv.server_address[1])
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


def ask(
    addr: tuple[str, int], method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    conn = http.client.HTTPConnection(*addr, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_unknown_paths_are_404(server: tuple[str, int]) -> None:
    assert ask(server, "POST", "/nothing", b"x")[0] == 404
    assert ask(server, "GET", "/add-checkpoint")[0] == 404
    assert ask(server, "GET", "/a/b/checkpoint")[0] == 404


def test_a_body_needs_a_length_within_the_limit(server: tuple[str, int]) -> None:
    status, text = ask(server, "POST", "/add-checkpoint", b"x", {"Content-Length": "many"})
    assert status == 400 and "Content-Length" in text
    status, _ = ask(server, "POST", "/add-checkpoint", b"", {"Content-Length": str(MAX_BODY + 1)})
    assert status == 400


def test_the_witness_answers_pass_through(server: tuple[str, int]) -> None:
    status, text = ask(server, "GET", "/" + "0" * 64 + "/checkpoint")
    assert status == 404 and "no checkpoint cosigned" in text
    status, text = ask(server, "POST", "/add-checkpoint/", b"not a request")  # trailing slash: the same path
    assert 400 <= status < 500 and text

"""``coalition witness``: run an independent witness (C2SP tlog-witness over HTTP).

A separate process with its own key and its own state file; it trusts the log key(s) it is given
(``--log VKEY``) and nothing in the log operator's database. The HTTP server is the standard
library's ``ThreadingHTTPServer``: two endpoints (``POST /add-checkpoint``,
``GET /<origin hash>/checkpoint``) need no web framework, and a witness should be small enough
to audit; the state update is serialised by the state file's write lock.
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coalition.cli import context
from coalition.errors import InputError, Problem

if TYPE_CHECKING:
    from coalition.ledger.witness import Witness

witness_app = typer.Typer(
    name="witness", help="An independent witness of the custody log (C2SP tlog-witness).", no_args_is_help=True
)
MAX_BODY = 1_000_000


def _passphrase() -> bytes:
    secret = context.settings().key_passphrase
    phrase = secret.get_secret_value() if secret else typer.prompt("witness key passphrase", hide_input=True)
    return phrase.encode("utf-8")


@witness_app.command("keygen")
def keygen_cmd(
    out: Annotated[Path, typer.Option("--out", help="new encrypted PKCS#8 key file")],
    name: Annotated[str, typer.Option("--name", help="the witness's key name, e.g. witness.example/w1")],
) -> None:
    """Create a witness key (encrypted PKCS#8) and print its cosignature verifier key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from coalition.ledger.notes import SIG_COSIGNATURE_V1, NoteError, Verifier, check_name
    from coalition.ledger.signers import MemorySigner, write_encrypted_key

    try:
        check_name(name)
    except NoteError as exc:
        raise InputError([Problem(str(exc), field="--name")]) from None
    if out.exists():
        raise InputError([Problem("exists; a witness key is never overwritten", file=str(out))])
    key = Ed25519PrivateKey.generate()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_encrypted_key(out, key, _passphrase())
    typer.echo(Verifier(name, SIG_COSIGNATURE_V1, MemorySigner(key).public_key()).vkey())


@witness_app.command("serve")
def serve_cmd(
    key_file: Annotated[Path, typer.Option("--key-file", help="the witness's encrypted key file")],
    name: Annotated[str, typer.Option("--name", help="the witness's key name")],
    log: Annotated[list[str], typer.Option("--log", help="trusted log verifier key (name = log origin); repeatable")],
    state: Annotated[Path, typer.Option("--state", help="the witness's own state file (SQLite)")],
    listen: Annotated[str, typer.Option("--listen", help="host:port (port 0 = any free port)")] = "127.0.0.1:0",
) -> None:
    """Serve add-checkpoint until stopped; prints the address and the witness's verifier key."""
    from coalition.ledger.notes import SIG_ED25519, NoteError, parse_vkey
    from coalition.ledger.signers import load_encrypted_key
    from coalition.ledger.witness import Witness, WitnessState

    try:
        logs = [parse_vkey(v) for v in log]
    except NoteError as exc:
        raise InputError([Problem(str(exc), field="--log")]) from None
    if any(v.sig_type != SIG_ED25519 for v in logs):
        raise InputError([Problem("a log key is an Ed25519 note key (type 0x01)", field="--log")])
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise InputError([Problem(f"{listen!r} is not host:port", field="--listen")])
    witness = Witness(
        name=name, signer=load_encrypted_key(key_file, _passphrase()), logs=logs, state=WitnessState(state)
    )
    server = ThreadingHTTPServer((host, int(port)), _handler(witness))
    h, p = server.server_address[:2]
    h = h.decode() if isinstance(h, bytes) else h
    print(f"witness {name} listening on http://{h}:{p} vkey {witness.vkey()}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        pass
    finally:
        server.server_close()


def _handler(witness: Witness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the spec recommends

        def _send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            if self.path.rstrip("/") != "/add-checkpoint":
                self._send(404, "not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length", "-1"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._send(400, "a Content-Length up to 1 MB is required\n")
                return
            out = witness.add_checkpoint(self.rfile.read(length))
            self._send(out.status, out.body, out.content_type)

        def do_GET(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[1] == "checkpoint":
                out = witness.get_checkpoint(parts[0])
                self._send(out.status, out.body)
            else:
                self._send(404, "not found\n")

        def log_message(self, fmt: str, *args: object) -> None:
            sys.stderr.write("witness: " + (fmt % args) + "\n")

    return Handler


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")

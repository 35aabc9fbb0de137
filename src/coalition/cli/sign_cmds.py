"""``coalition sign``: a nation's workstation signs what the log prepared, with its own key.

Input: the statements a ``prepare`` returned (``coalition ledger prepare`` or
``POST /api/custody-events/prepare``), or a C2SP checkpoint note. Output: the signatures, to be
sent back with the batch (``ledger import --signatures``, ``POST /api/custody-events/signed``).
The key is an encrypted PKCS#8 file (passphrase from ``COALITION_KEY_PASSPHRASE`` or a prompt) or
a PKCS#11 token (PIN from ``COALITION_PKCS11_PIN`` or a prompt). Nothing but the key's own
statements is signed: a statement for another key id is left alone and reported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from coalition.cli import context
from coalition.errors import InputError, Problem

if TYPE_CHECKING:
    from coalition.ledger.signers import Signer

err = Console(stderr=True, highlight=False)


def _signer(key_file: Path | None, pkcs11_module: str | None, token: str | None, key_label: str | None) -> Signer:
    from coalition.ledger.signers import Pkcs11Signer, load_encrypted_key

    if (key_file is None) == (pkcs11_module is None):
        raise InputError([Problem("give exactly one key: --key-file FILE or --pkcs11-module LIB", field="--key-file")])
    if key_file is not None:
        secret = context.settings().key_passphrase
        phrase = secret.get_secret_value() if secret else typer.prompt("key passphrase", hide_input=True)
        return load_encrypted_key(key_file, phrase.encode("utf-8"))
    if not token or not key_label:
        raise InputError([Problem("a PKCS#11 key needs --token and --key-label", field="--token")])
    secret = context.settings().pkcs11_pin
    pin = secret.get_secret_value() if secret else typer.prompt("token PIN", hide_input=True)
    return Pkcs11Signer(module=str(pkcs11_module), token_label=token, pin=pin, key_label=key_label)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=str(path))]) from None
    except UnicodeDecodeError:
        raise InputError([Problem("not UTF-8", file=str(path))]) from None


def sign_cmd(
    input_file: Annotated[Path, typer.Argument(help="prepared statements (JSON) or a checkpoint note")],
    key_id: Annotated[str, typer.Option("--key-id", help="the key id this key is registered as, e.g. GBR-k1")],
    out: Annotated[Path | None, typer.Option("--out", help="write the signatures here (default: stdout)")] = None,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="encrypted PKCS#8 key file")] = None,
    pkcs11_module: Annotated[
        str | None, typer.Option("--pkcs11-module", help="PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so")
    ] = None,
    token: Annotated[str | None, typer.Option("--token", help="PKCS#11 token label")] = None,
    key_label: Annotated[str | None, typer.Option("--key-label", help="PKCS#11 key label")] = None,
    note_name: Annotated[
        str | None, typer.Option("--note-name", help="for a checkpoint: the signature's key name")
    ] = None,
) -> None:
    """Sign prepared batch statements (or a checkpoint) with this workstation's own key."""
    text = _read(input_file)
    signer = _signer(key_file, pkcs11_module, token, key_label)
    if text.lstrip().startswith("{"):
        result = _sign_statements(text, input_file, key_id, signer)
        rendered = json.dumps(result, indent=1) + "\n"
    else:
        rendered = _sign_checkpoint(text, input_file, note_name or key_id, signer)
    if out is None:
        typer.echo(rendered, nl=False)
    else:
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(rendered, "utf-8")
        tmp.replace(out)
        err.print(f"wrote {out}")


def _sign_statements(text: str, path: Path, key_id: str, signer: Signer) -> dict[str, list[dict[str, object]]]:
    try:
        data = json.loads(text)
        statements = data["statements"]
        if not isinstance(statements, list):
            raise TypeError("'statements' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            [
                Problem(
                    f"not a prepared-statements file ({exc})",
                    file=str(path),
                    hint="the output of 'coalition ledger prepare' or POST /api/custody-events/prepare",
                )
            ]
        ) from None
    sigs: list[dict[str, object]] = []
    skipped = 0
    for i, st in enumerate(statements):
        if not isinstance(st, dict) or not isinstance(st.get("statement"), str):
            raise InputError([Problem("missing 'statement'", file=str(path), field=f"statements[{i}]")])
        if st.get("key_id") != key_id:
            skipped += 1
            continue
        body = st["statement"].encode("utf-8")
        sigs.append(
            {
                "statement_sha256": hashlib.sha256(body).hexdigest(),
                "role": st.get("role"),
                "key_id": key_id,
                "signature": signer.sign(body).hex(),
                "time": st.get("time", ""),
            }
        )
    if not sigs:
        raise InputError([Problem(f"no statement in the file is for key {key_id}", file=str(path), field="--key-id")])
    if skipped:
        err.print(f"{skipped} statement(s) are for other keys and were not signed")
    return {"signatures": sigs}


def _sign_checkpoint(text: str, path: Path, name: str, signer: Signer) -> str:
    from coalition.ledger.notes import NoteError, parse_checkpoint, parse_note, sign_note_line

    body = text
    if "\n\n" in text:  # a signed note: sign its text only
        try:
            body = parse_note(text).text
        except NoteError as exc:
            raise InputError([Problem(str(exc), file=str(path))]) from None
    try:
        parse_checkpoint(body)
    except NoteError as exc:
        raise InputError([Problem(str(exc), file=str(path))]) from None
    return sign_note_line(name, signer.public_key(), signer.sign(body.encode("utf-8"))).line()


def register(app: typer.Typer) -> None:
    app.command("sign")(sign_cmd)

"""C2SP signed notes, checkpoints and Ed25519 cosignatures (stdlib + ``cryptography`` only).

Implements, and parses strictly:

- c2sp.org/signed-note: text ending in a newline, a blank line, then signature lines
  ``— <key name> base64(key ID || signature)``; Ed25519 key IDs are
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; verifier keys ``name+hex(id)+base64(type || key)``.
- c2sp.org/tlog-checkpoint: note text ``<origin>\\n<tree size>\\n<base64 root hash>\\n``, then
  optional extension lines (the custody log writes one, its nation-heads commitment:
  :mod:`coalition.ledger.nationheads`).
- c2sp.org/tlog-cosignature, Ed25519 (signature type 0x04): a ``timestamped_signature`` (u64
  big-endian POSIX time || 64-byte signature) over ``cosignature/v1\\ntime <t>\\n`` + the note text.

Used by the log (signing checkpoints), the witness (``coalition witness``) and the offline
verifier, which must not import the rest of the package. Hand-written because no maintained
Python package implements these C2SP formats; they are short and specified exactly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from coalition.errors import CoalitionError

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
MAX_SIGNATURES = 64
_NAME = re.compile(r"^[^\s+]+$")


class NoteError(CoalitionError, ValueError):
    """A note, checkpoint or key that does not follow the specification (says what was expected)."""


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def check_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise NoteError(f"key name {name!r}: must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A pinned public key: name, signature type (0x01 note, 0x04 cosignature) and Ed25519 key."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+" + base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()

    def check(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            return False


def parse_vkey(text: str) -> Verifier:
    """``name+hex(key id)+base64(type || key)``; the key id must match (no silent mismatch)."""
    parts = text.strip().split("+", 2)  # base64 may itself contain '+': split at the first two only
    if len(parts) != 3:
        raise NoteError(f"verifier key {text!r}: expected name+keyid+base64key")
    name, kid, b64 = parts
    check_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
        want = bytes.fromhex(kid)
    except (binascii.Error, ValueError):
        raise NoteError(f"verifier key {name}: key id or key is not hex/base64") from None
    if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1) or len(want) != 4:
        raise NoteError(f"verifier key {name}: expected type 0x01 or 0x04 and a 32-byte Ed25519 key")
    v = Verifier(name, raw[0], raw[1:])
    if v.key_id != want:
        raise NoteError(f"verifier key {name}: key id {kid} does not match the key")
    return v


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # the bytes after the key id

    def line(self) -> str:
        return f"{EM_DASH} {self.name} " + base64.b64encode(self.key_id + self.blob).decode() + "\n"


@dataclass(frozen=True)
class Note:
    text: str  # includes the final newline
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_signature_line(line: str) -> Signature:
    if not line.startswith(EM_DASH + " "):
        raise NoteError(f"signature line must start with '{EM_DASH} ': {line[:40]!r}")
    rest = line[2:]
    name, sep, b64 = rest.partition(" ")
    if not sep:
        raise NoteError("signature line: expected '<name> <base64>'")
    check_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"signature by {name}: not base64") from None
    if len(raw) < 5:
        raise NoteError(f"signature by {name}: too short")
    return Signature(name, raw[:4], raw[4:])


def parse_note(data: str | bytes) -> Note:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("note contains a control character other than newline")
    if not data.endswith("\n"):
        raise NoteError("note must end with a newline")
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("note has no blank line before its signatures")
    text, sigs = data[: cut + 1], data[cut + 2 :]
    lines = sigs.split("\n")[:-1]
    if not lines:
        raise NoteError("note has no signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(parse_signature_line(ln) for ln in lines))


def sign_note_line(name: str, public_key: bytes, signature: bytes) -> Signature:
    """The note signature of an Ed25519 key over a note text (type 0x01)."""
    return Signature(check_name(name), key_id(name, SIG_ED25519, public_key), signature)


def verified_by(note: Note, verifier: Verifier) -> bool | None:
    """True if ``verifier`` signed the note, False if a signature with its name and id fails, None
    if it did not sign (signatures of unknown keys are ignored, as the spec requires)."""
    found = None
    for s in note.signatures:
        if s.name == verifier.name and s.key_id == verifier.key_id:
            if verifier.sig_type == SIG_ED25519:
                ok = len(s.blob) == 64 and verifier.check(s.blob, note.text.encode("utf-8"))
            else:
                ok = cosignature_ok(verifier, note.text, s.blob)
            if not ok:
                return False
            found = True
    return found


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()  # extension lines, without their newlines

    def text(self) -> str:
        ext = "".join(f"{x}\n" for x in self.extensions)
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n{ext}"


def checkpoint_text(origin: str, size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    for x in extensions:
        if not x or "\n" in x:
            raise NoteError("checkpoint: an extension line must be non-empty and one line")
    return CheckpointBody(origin, size, root, tuple(extensions)).text()


def parse_checkpoint(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint: expected origin, tree size and root hash lines, each ending in a newline")
    extensions = tuple(lines[3:-1])
    if any(not x for x in extensions):
        raise NoteError("checkpoint: empty extension line")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("checkpoint: empty origin line")
    if not size_s.isascii() or not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise NoteError(f"checkpoint: tree size {size_s!r} is not a decimal without leading zeroes")
    try:
        root = base64.b64decode(root_s, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("checkpoint: root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("checkpoint: root hash is not 32 bytes")
    return CheckpointBody(origin, int(size_s), root, extensions)


# --------------------------------------------------------------------------------------------
# Cosignatures (tlog-cosignature, Ed25519 v1)
# --------------------------------------------------------------------------------------------
def cosignature_message(note_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + note_text.encode("utf-8")


def cosignature_blob(timestamp: int, signature: bytes) -> bytes:
    if not 0 <= timestamp < 2**63:
        raise NoteError("cosignature timestamp outside 0..2^63-1")
    return struct.pack(">Q", timestamp) + signature


def cosignature_time(blob: bytes) -> int:
    if len(blob) != 72:
        raise NoteError("cosignature: expected 8-byte timestamp and 64-byte signature")
    return int(struct.unpack(">Q", blob[:8])[0])


def cosignature_ok(verifier: Verifier, note_text: str, blob: bytes) -> bool:
    if len(blob) != 72:
        return False
    ts = struct.unpack(">Q", blob[:8])[0]
    return ts < 2**63 and verifier.check(blob[8:], cosignature_message(note_text, ts))

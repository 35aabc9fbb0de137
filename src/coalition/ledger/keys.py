"""Ed25519 keys of nations and of the log operator (``cryptography``).

ILLUSTRATIVE key management: ``ledger init`` generates one key pair per nation of the sample and
one for the log operator into ``<data_dir>/keys`` (private keys as unencrypted PKCS#8 PEM files,
mode 0600, never in the repository). A real deployment would keep each nation's private key in
that nation's own HSM or smart card and only ever send signatures; see docs/ledger.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coalition.errors import NotFoundError

OPERATOR_KEY_ID = "log-operator"


def nation_key_id(nation: str) -> str:
    return f"{nation}-k1"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    kind: str  # "nation" | "operator"
    nation: str | None
    public_key: bytes


class KeyRing:
    """Private keys available on this machine, by key id."""

    def __init__(self, keys: dict[str, tuple[str, str | None, Ed25519PrivateKey]]) -> None:
        self._keys = keys

    @classmethod
    def load(cls, directory: Path) -> "KeyRing":
        keys: dict[str, tuple[str, str | None, Ed25519PrivateKey]] = {}
        if directory.is_dir():
            for pem in sorted(directory.glob("*.pem")):
                key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
                if not isinstance(key, Ed25519PrivateKey):
                    continue
                kid = pem.stem
                if kid == OPERATOR_KEY_ID:
                    keys[kid] = ("operator", None, key)
                else:
                    keys[kid] = ("nation", kid.split("-", 1)[0], key)
        return cls(keys)

    @classmethod
    def generate(cls, directory: Path, nations: list[str]) -> "KeyRing":
        """Create missing key files for ``nations`` and the operator; keep existing ones."""
        directory.mkdir(parents=True, exist_ok=True)
        for kid in [OPERATOR_KEY_ID, *(nation_key_id(n) for n in nations)]:
            path = directory / f"{kid}.pem"
            if path.exists():
                continue
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        return cls.load(directory)

    def has(self, key_id: str) -> bool:
        return key_id in self._keys

    def key_id_for(self, nation: str) -> str:
        kid = nation_key_id(nation)
        if kid not in self._keys:
            raise NotFoundError(
                f"no private key for nation {nation} on this machine (expected key '{kid}'); "
                "run 'coalition ledger init' or copy the nation's key into the keys folder"
            )
        return kid

    def sign(self, key_id: str, message: bytes) -> bytes:
        if key_id not in self._keys:
            raise NotFoundError(f"no private key '{key_id}' on this machine")
        return self._keys[key_id][2].sign(message)

    def public_keys(self) -> list[PublicKey]:
        out = []
        for kid, (kind, nation, key) in sorted(self._keys.items()):
            raw = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            out.append(PublicKey(kid, kind, nation, raw))
        return out


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

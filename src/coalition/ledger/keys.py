"""Private keys available on one machine (a :class:`KeyRing`), and the demo key store.

A key ring maps key ids to :class:`~coalition.ledger.signers.Signer` objects (encrypted PKCS#8
files, a PKCS#11 token). A nation's workstation has a key ring with only that nation's key; the
log operator's server has only the operator key. Which key may sign for which nation is never
decided here: it is the signed key log (``coalition.ledger.trust``).

**The demo key store** (ILLUSTRATIVE): ``ledger init`` creates ``<data dir>/demo-keystore`` (the
data dir comes from settings, ``COALITION_DATA_DIR``, made absolute) holding a coalition root key,
the log operator key and one key per nation, each as an *encrypted* PKCS#8 file under the demo
passphrase (``COALITION_DEMO_PASSPHRASE``). One machine holding every nation's key is only good
for a demonstration; the folder says so (``DEMO-KEYSTORE.txt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coalition.errors import InputError, NotFoundError, Problem
from coalition.ledger.signers import Signer, load_encrypted_key, write_encrypted_key

OPERATOR_KEY_ID = "log-operator"
ROOT_KEY_ID = "coalition-root-1"
DEMO_PASSPHRASE = "coalition-demo-only"  # ILLUSTRATIVE: the demo store's keys are all under it
DEMO_MARKER = "DEMO-KEYSTORE.txt"
_MARKER_TEXT = (
    "DEMO KEY STORE - ILLUSTRATIVE ONLY.\n"
    "Every nation's private key is here, encrypted under one demo passphrase. In a deployment each\n"
    "nation holds its own key (an encrypted key file or a PKCS#11 token) and sends only signatures.\n"
)


def nation_key_id(nation: str, n: int = 1) -> str:
    return f"{nation}-k{n}"


def kind_of(key_id: str) -> tuple[str, str | None]:
    if key_id == OPERATOR_KEY_ID:
        return "operator", None
    if key_id.startswith("coalition-root"):
        return "root", None
    if key_id.startswith("witness-"):
        return "witness", None
    return "nation", key_id.split("-", 1)[0]


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    kind: str  # "nation" | "operator" | "root" | "witness"
    nation: str | None
    public_key: bytes


class KeyRing:
    """Signers available on this machine, by key id."""

    def __init__(
        self, keys: dict[str, Signer] | None = None, *, demo: bool = False, directory: Path | None = None
    ) -> None:
        self._keys: dict[str, Signer] = dict(keys or {})
        self.demo = demo
        self.directory = directory

    # ---- stores -----------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path, passphrase: str = DEMO_PASSPHRASE) -> KeyRing:
        """Unlock every ``<key id>.pem`` of a key store folder (all under one passphrase)."""
        directory = Path(directory)
        keys: dict[str, Signer] = {}
        if directory.is_dir():
            for pem in sorted(directory.glob("*.pem")):
                keys[pem.stem] = load_encrypted_key(pem, passphrase.encode("utf-8"))
        return cls(keys, demo=(directory / DEMO_MARKER).exists(), directory=directory)

    @classmethod
    def generate(cls, directory: Path, nations: list[str], passphrase: str = DEMO_PASSPHRASE) -> KeyRing:
        """Create the demo key store (root, operator, one key per nation); keep existing keys."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory / DEMO_MARKER
        if not marker.exists():
            marker.write_text(_MARKER_TEXT, "utf-8")
        existing = {p.stem for p in directory.glob("*.pem")}
        for nation in nations:
            if any(kind_of(k) == ("nation", nation) for k in existing):
                continue
            write_encrypted_key(
                directory / f"{nation_key_id(nation)}.pem", Ed25519PrivateKey.generate(), passphrase.encode("utf-8")
            )
        for kid in (ROOT_KEY_ID, OPERATOR_KEY_ID):
            if kid not in existing:
                write_encrypted_key(directory / f"{kid}.pem", Ed25519PrivateKey.generate(), passphrase.encode("utf-8"))
        return cls.load(directory, passphrase)

    def add(self, key_id: str, signer: Signer) -> None:
        self._keys[key_id] = signer

    # ---- use --------------------------------------------------------------------------------
    def has(self, key_id: str) -> bool:
        return key_id in self._keys

    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def signer(self, key_id: str) -> Signer:
        if key_id not in self._keys:
            kind, nation = kind_of(key_id)
            who = f"nation {nation}" if nation else f"the {kind} key"
            raise NotFoundError(
                f"no private key '{key_id}' on this machine: {who} must sign for itself "
                "('coalition sign' on its workstation, then submit the signature)"
            )
        return self._keys[key_id]

    def sign(self, key_id: str, message: bytes) -> bytes:
        return self.signer(key_id).sign(message)

    def key_id_for(self, nation: str) -> str:
        """The newest key of ``nation`` held here (``GBR-k2`` over ``GBR-k1``)."""
        mine = [k for k in self._keys if kind_of(k) == ("nation", nation)]
        if not mine:
            raise NotFoundError(
                f"no private key for nation {nation} on this machine: {nation} must sign for itself ('coalition sign')"
            )
        return max(mine, key=lambda k: (len(k), k))

    def public_keys(self) -> list[PublicKey]:
        return [PublicKey(kid, *kind_of(kid), s.public_key()) for kid, s in sorted(self._keys.items())]

    def public(self, key_id: str) -> bytes:
        return self.signer(key_id).public_key()  # MemorySigner derives it; a token reads it once


def require_demo(keyring: KeyRing, what: str) -> None:
    if not keyring.demo:
        raise InputError([Problem(f"{what} needs the demo key store", hint="run 'coalition ledger init'")])


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

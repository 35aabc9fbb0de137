"""Where a private key lives: an encrypted PKCS#8 file (``cryptography``) or a PKCS#11 token
(``python-pkcs11``; tested against SoftHSM2). Both sign Ed25519 and expose the raw public key.

A nation's workstation holds its own key in one of these; the server never needs it (pre-signed
batches, ``coalition sign``). The demo key store (``coalition.ledger.keys``) uses encrypted files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from coalition.errors import InputError, NotFoundError, Problem

if TYPE_CHECKING:
    from pkcs11.types import SignMixin

_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Signer(Protocol):
    def public_key(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass
class MemorySigner:
    """A key already decrypted in memory (what an encrypted file yields once unlocked)."""

    key: Ed25519PrivateKey
    _public: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def public_key(self) -> bytes:
        # derived once: appends ask for it per batch (a one-event batch per alternating nation)
        if self._public is None:
            self._public = self.key.public_key().public_bytes(*_RAW)
        return self._public

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def write_encrypted_key(path: Path, key: Ed25519PrivateKey, passphrase: bytes) -> None:
    """Write ``key`` as encrypted PKCS#8 PEM (mode 0600); never overwrites a file."""
    if not passphrase:
        raise InputError([Problem("a passphrase is required to encrypt a private key", field="passphrase")])
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(passphrase)
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def load_encrypted_key(path: Path, passphrase: bytes) -> MemorySigner:
    """Unlock an encrypted PKCS#8 key file; unencrypted files are refused."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: key file not found") from None
    if b"ENCRYPTED PRIVATE KEY" not in data:
        raise InputError(
            [
                Problem(
                    "private key file is not encrypted PKCS#8",
                    file=str(path),
                    hint="keys must be stored encrypted (BEGIN ENCRYPTED PRIVATE KEY)",
                )
            ]
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError):
        raise InputError([Problem("wrong passphrase or damaged key file", file=str(path))]) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError([Problem("not an Ed25519 private key", file=str(path))])
    return MemorySigner(key)


class Pkcs11Signer:
    """An Ed25519 key in a PKCS#11 token (CKM_EDDSA): the private key never leaves the token."""

    def __init__(self, *, module: str, token_label: str, pin: str, key_label: str) -> None:
        import pkcs11  # python-pkcs11; imported here so the rest of the ledger does not need it
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
        from pkcs11.types import SignMixin

        self._mech = Mechanism.EDDSA
        try:
            lib = pkcs11.lib(module)
            token = lib.get_token(token_label=token_label)
        except (pkcs11.exceptions.PKCS11Error, RuntimeError, OSError) as exc:
            raise NotFoundError(f"PKCS#11 token {token_label!r} in {module}: {type(exc).__name__} {exc}") from None
        try:
            self._session = token.open(user_pin=pin)
        except pkcs11.exceptions.PinIncorrect:
            raise InputError([Problem("wrong PIN for the PKCS#11 token", field="pin")]) from None
        try:
            priv = self._session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC_EDWARDS, label=key_label)
            pub = self._session.get_key(ObjectClass.PUBLIC_KEY, KeyType.EC_EDWARDS, label=key_label)
        except (pkcs11.exceptions.NoSuchKey, pkcs11.exceptions.MultipleObjectsReturned):
            self._session.close()
            raise NotFoundError(f"no single Ed25519 key labelled {key_label!r} on token {token_label!r}") from None
        if not isinstance(priv, SignMixin):  # python-pkcs11 mixes sign() in only when CKA_SIGN is true
            self._session.close()
            raise InputError(
                [
                    Problem(
                        f"the key labelled {key_label!r} on token {token_label!r} may not sign (CKA_SIGN is false)",
                        field="key_label",
                    )
                ]
            )
        self._priv: SignMixin = priv
        self._pub = _ec_point_to_raw(pub[Attribute.EC_POINT])

    def public_key(self) -> bytes:
        return self._pub

    def sign(self, message: bytes) -> bytes:
        sig = bytes(self._priv.sign(message, mechanism=self._mech))
        Ed25519PublicKey.from_public_bytes(self._pub).verify(sig, message)  # the token did sign it
        return sig

    def close(self) -> None:
        self._session.close()


def _ec_point_to_raw(point: bytes) -> bytes:
    """CKA_EC_POINT of an Ed25519 key: the 32-byte key, usually wrapped in a DER OCTET STRING."""
    point = bytes(point)
    if len(point) == 34 and point[0] == 0x04 and point[1] == 32:
        return point[2:]
    if len(point) == 32:
        return point
    raise InputError([Problem(f"unexpected CKA_EC_POINT of {len(point)} bytes for an Ed25519 key")])


def generate_pkcs11_key(*, module: str, token_label: str, pin: str, key_label: str) -> bytes:
    """Generate an Ed25519 key pair inside the token (for set-up and tests); returns the public key."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism

    token = pkcs11.lib(module).get_token(token_label=token_label)
    with token.open(rw=True, user_pin=pin) as session:
        # the curve is named by its DER-encoded OID 1.3.101.112 (id-Ed25519, RFC 8410)
        params = session.create_domain_parameters(
            KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: bytes.fromhex("06032b6570")}, local=True
        )
        pub, _ = params.generate_keypair(store=True, label=key_label, mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN)
        return _ec_point_to_raw(pub[Attribute.EC_POINT])

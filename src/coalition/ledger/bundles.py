"""A custody-ledger bundle as one zip file, for a download: the same folder as
``coalition ledger export`` (:func:`coalition.ledger.export.export_bundle`, which first makes a
checkpoint of the head if none covers it), zipped. The donor's inspector unzips it and runs
``coalition-verify DIR --trust FILE`` offline."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from coalition.errors import ConflictError


def keyring_of(settings: Any) -> Any:
    """The server's demo key store (the same keys the API signs checkpoints with)."""
    from coalition.ledger.keys import KeyRing

    keys = settings.demo_keystore
    if not keys.is_dir():
        raise ConflictError(
            "the custody ledger has no keys yet; run `coalition ledger init` (or `coalition serve --demo-users`) first"
        )
    return KeyRing.load(keys, settings.demo_passphrase)


def bundle_zip(session: Session, settings: Any, *, donor: str | None) -> tuple[bytes, dict[str, Any]]:
    """(zip bytes, the bundle's metadata). ``donor`` None: the whole log."""
    from coalition.ledger.export import export_bundle
    from coalition.ledger.queries import pinned_trust

    with tempfile.TemporaryDirectory(prefix="coalition-bundle-") as tmp:
        folder = Path(tmp) / "bundle"
        meta = export_bundle(
            session, directory=folder, keyring=keyring_of(settings), donor=donor, trust=pinned_trust(settings)
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, arcname=path.name)
    return buf.getvalue(), meta


__all__ = ["bundle_zip", "keyring_of"]

"""Offline verifier of a custody-ledger bundle: ``coalition-verify DIR --trust FILE``.

The small, self-contained piece a donor nation runs without trusting the log operator. It and the
modules it uses (:mod:`~coalition.ledger.bundle`, :mod:`~coalition.ledger.completeness`,
:mod:`~coalition.ledger.checks`, :mod:`~coalition.ledger.canonical`,
:mod:`~coalition.ledger.rfc6962`, :mod:`~coalition.ledger.notes`, :mod:`~coalition.ledger.trust`)
depend ONLY on the Python standard library and ``cryptography`` (a test parses their imports to
keep it that way), so they can be audited on their own. The ledger package imports its primitives
from them, so the producer and the checker can never disagree about the format.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from coalition.ledger.bundle import (
    BundleError,
    Row,
    _Bad,
    batch_dict,
    check_consistency,
    read_jsonl,
    read_keylog,
    verify_full,
)
from coalition.ledger.canonical import BUNDLE_FORMAT, BUNDLE_FORMATS
from coalition.ledger.checks import BatchDict, Report, check_checkpoint
from coalition.ledger.completeness import DonorBundle, LatestCheckpoint, verify_partial
from coalition.ledger.nationheads import checkpoint_heads
from coalition.ledger.trust import Trust, TrustError, load_trust, parse_trust

__all__ = ["main", "verify_bundle"]


def verify_bundle(directory: Path, trust: Trust | None = None) -> Report:
    """Verify every hash, key event, signature, checkpoint, cosignature and proof of a bundle
    against the pinned ``trust`` (default: the bundle's own ``trust.json``, reported as unpinned)."""
    directory = Path(directory)
    meta = _read_meta(directory)
    report = Report()
    if trust is None:
        try:
            trust = parse_trust((directory / "trust.json").read_text("utf-8"), source="trust.json")
        except (OSError, UnicodeDecodeError, TrustError) as exc:
            raise BundleError(f"no pinned trust file given and the bundle's trust.json is unusable ({exc})") from None
        report.unpinned = True
    keys = read_keylog(read_jsonl(directory / "keylog.jsonl"), trust, report)
    lines = (
        [ln for ln in (directory / "events.jsonl").read_bytes().splitlines() if ln.strip()]
        if (directory / "events.jsonl").exists()
        else None
    )
    if lines is None:
        raise BundleError("events.jsonl: missing")
    batches: list[BatchDict] = []
    for r in read_jsonl(directory / "batches.jsonl"):
        try:
            batches.append(batch_dict(r))
        except _Bad as exc:
            report.add("batch", str(exc))
    cps = _read_checkpoints(report, trust, read_jsonl(directory / "checkpoints.jsonl"))
    if not cps:
        report.add("checkpoint", "bundle has no readable checkpoint")
        return report
    cps.sort(key=lambda c: c[0])
    top_size, top_root, top_row, top_ext = cps[-1]
    quorum = Report()
    check_checkpoint(quorum, trust, str(top_row.data["note"]), None, label="latest checkpoint", quorum=True)
    report.findings.extend(f for f in quorum.findings if f.what == "witness")
    scope = meta.get("scope")
    if meta.get("tree_size") != top_size:
        report.add(
            "bundle",
            f"bundle.json says tree size {meta.get('tree_size')!r}; its latest checkpoint has"
            f" {top_size} (a bundle truncated to an older checkpoint, or relabelled)",
        )
    if scope == "full":
        verify_full(report, keys, lines, batches, cps)
    elif isinstance(scope, str) and scope.startswith("donor:") and len(scope) == 9:
        try:
            proofs = [(r, r.get("seq", int)) for r in read_jsonl(directory / "proofs.jsonl")]
        except _Bad as exc:
            report.add("proof", str(exc))
            proofs = []
        donor = DonorBundle(scope[6:], lines, batches, proofs, read_jsonl(directory / "heads.jsonl", required=False))
        verify_partial(report, keys, donor, LatestCheckpoint(top_size, top_root, checkpoint_heads(top_ext)))
    else:
        report.add("bundle", f"bundle.json: scope {scope!r} is neither 'full' nor 'donor:XXX'")
    check_consistency(report, cps, read_jsonl(directory / "consistency.jsonl"))
    return report


def _read_meta(directory: Path) -> dict[str, object]:
    """bundle.json, which must name a format this verifier reads."""
    try:
        meta = json.loads((directory / "bundle.json").read_text("utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{directory}: no bundle.json (is this an exported ledger bundle?)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"bundle.json: not JSON ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), str) or meta["format"] not in BUNDLE_FORMATS:
        got = meta.get("format") if isinstance(meta, dict) else meta
        raise BundleError(f"bundle.json: field 'format' is {got!r}, expected {BUNDLE_FORMAT!r}")
    return meta


def _read_checkpoints(report: Report, trust: Trust, rows: list[Row]) -> list[tuple[int, bytes, Row, tuple[str, ...]]]:
    """Every readable checkpoint of checkpoints.jsonl, checked: (size, root, row, extension lines)."""
    cps: list[tuple[int, bytes, Row, tuple[str, ...]]] = []
    for r in rows:
        try:
            note = r.get("note", str)
        except _Bad as exc:
            report.add("checkpoint", str(exc))
            continue
        got = check_checkpoint(report, trust, note, None, label=f"checkpoints.jsonl line {r.line}")
        if got is not None:
            cps.append((got.size, got.root, r, got.extensions))
    return cps


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="coalition-verify",
        description="Verify an exported custody-ledger bundle offline (hashes, key log, signatures, "
        "checkpoints, witness cosignatures, proofs) against a pinned trust file. Exit 0 = valid, "
        "1 = tampered or invalid, 2 = unreadable.",
    )
    parser.add_argument("directory", type=Path, help="bundle folder written by 'coalition ledger export'")
    parser.add_argument(
        "--trust",
        type=Path,
        default=None,
        help="pinned trust file obtained out of band ('coalition ledger trust export');"
        " default: the bundle's own trust.json, which proves nothing against its producer",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        trust = load_trust(args.trust) if args.trust else None
        report = verify_bundle(args.directory, trust)
    except (BundleError, TrustError) as exc:
        print(f"coalition-verify: cannot read bundle: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        # a damaged bundle must never end in a traceback; say what broke
        print(f"coalition-verify: cannot read bundle: malformed content ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    print(
        f"events {report.events}, batches {report.batches}, signatures {report.signatures}, "
        f"checkpoints {report.checkpoints}, cosignatures {report.cosignatures}, proofs {report.proofs}"
    )
    if report.unpinned:
        print(
            "WARNING: no --trust file given: checked against the bundle's own trust.json, which its"
            " producer could have replaced; pin a trust file obtained out of band"
        )
    for w in report.warnings:
        print(f"WARNING: {w}")
    if report.ok:
        if report.tail_witnessed is True:
            print(
                "OK: every hash, key event, signature, checkpoint and proof verifies; the donor's chain is"
                " complete up to the witnessed checkpoint"
            )
        elif report.tail_witnessed is False:
            print(
                "OK: every hash, key event, signature, checkpoint and proof verifies; no gap in the donor's"
                " chain, but its end is not witnessed (see the warning)"
            )
        else:
            print("OK: every hash, key event, signature, checkpoint and proof verifies")
        return 0
    bad = report.first_bad_seq()
    print(f"FAILED: {len(report.findings)} problem(s)" + (f"; first bad seq {bad}" if bad else ""))
    for f in report.findings[:50]:
        print(f"  - {f}")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The canonical encoding of what the custody ledger hashes and signs (stdlib only).

Part of the offline verifier (``coalition-verify``): it depends only on the standard library, so
a donor can audit it on its own; the producer imports the same definitions, so the two can never
disagree about the format. See docs/ledger.md ("Events", "Batches").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import NamedTuple

BUNDLE_FORMAT = "coalition-ledger-bundle/4"  # 4: a batch may list the runs of its events (v3 statement)
#: formats the offline verifier reads: 3 (heads.jsonl proves into the checkpoint's nation heads)
#: differs from 4 only in having no non-contiguous batches
BUNDLE_FORMATS = frozenset({"coalition-ledger-bundle/3", BUNDLE_FORMAT})
GENESIS = bytes(32)  # "prev" of the first event
BATCH_KIND = "coalition-ledger/batch/v2"
#: a batch whose events are not contiguous (one signed batch per nation per append call); its
#: statement lists the runs ``[[first seq, length], ...]`` of its events
BATCH_RUNS_KIND = "coalition-ledger/batch/v3"
#: Event types that hand custody from one nation to another; they need both parties' signatures.
HANDOVER_TYPES = frozenset({"receipt", "issue", "return"})


#: encoder on every call, which costs more than encoding a 300-byte event (the append hot path).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: object) -> bytes:
    """The one encoding that is hashed and signed: sorted keys, no whitespace, UTF-8, no NaN."""
    return _CANONICAL.encode(value).encode("utf-8")


def canonical_text(value: object) -> str:
    """:func:`canonical_json` before the UTF-8 encoding."""
    return _CANONICAL.encode(value)


_str = json.encoder.encode_basestring  # what the canonical encoder does to a string (ensure_ascii=False)
json_str = _str  # public name (the database verifier frames bodies with it)


def event_frame(
    counterparty: str | None,
    nation: str,
    person: str,
    prev_hex: str,
    seq: int,
    time: str,
    type: str,
    chain_text: str = "{}",
) -> tuple[str, str]:
    """The canonical text of an event body before and after its payload.

    With sorted keys an event body is always ``{"chain":{..},"counterparty":..,"nation":..,
    "payload":<payload>,"person":..,"prev":..,"seq":..,"time":..,"type":..}``, so
    ``head + canonical(payload) + tail`` is byte for byte ``canonical_json(event)`` (a property
    test checks it). ``chain_text`` is the canonical text of the per-nation chain links. The
    producer uses it to encode the payload only, and the database verifier to check a body
    without parsing it."""
    cp = "null" if counterparty is None else _str(counterparty)
    head = f'{{"chain":{chain_text},"counterparty":{cp},"nation":{_str(nation)},"payload":'
    tail = f',"person":{_str(person)},"prev":"{prev_hex}","seq":{seq:d},"time":{_str(time)},"type":{_str(type)}}}'
    return head, tail


def chain_text(chain: Mapping[str, Sequence[int | str]]) -> str:
    """The canonical text of an event's chain links ``{nation: [counter, previous hash hex]}``.

    Framed by hand when every link is an ``(int, str)`` tuple, as the append path builds them (a
    property test checks the text equals :func:`canonical_text` for any strings): the general
    encoder was a tenth of an append. Anything else goes through the encoder."""
    if not chain:
        return "{}"
    parts = []
    for nation in sorted(chain):
        link = chain[nation]
        if type(nation) is not str or type(link) is not tuple or len(link) != 2:
            return canonical_text(chain)
        counter, prev = link
        if type(counter) is not int or type(prev) is not str:
            return canonical_text(chain)
        parts.append(f"{_str(nation)}:[{counter:d},{_str(prev)}]")
    return "{" + ",".join(parts) + "}"


_CHAIN_HEAD = '{"chain":'
_CHAIN_END = ',"counterparty":'
CHAIN_HEAD, CHAIN_END = _CHAIN_HEAD, _CHAIN_END  # how every body starts, and what ends its chain text


def chain_text_of(body: str) -> str | None:
    """The chain object's text at the start of a body (None if the body does not start so)."""
    if not body.startswith(_CHAIN_HEAD):
        return None
    end = body.find(_CHAIN_END, len(_CHAIN_HEAD))
    return body[len(_CHAIN_HEAD) : end] if end > 0 else None


class BatchStatement(NamedTuple):
    """The fields of a batch statement (:func:`batch_statement` encodes them). A NamedTuple: it
    is built once per signed batch on the append path, where a dataclass's init costs more."""

    batch_id: int
    first_seq: int
    size: int
    nation: str
    counterparty: str | None
    root: bytes
    keys_size: int
    keys_head: bytes
    time: str
    runs: list[list[int]] | None = None


def batch_statement(statement: BatchStatement) -> bytes:
    """The bytes each party signs for a batch: its Merkle root, where it sits in the log, the key
    log it was signed under (size and head hash) and the signed commit time.

    Framed by hand in canonical key order when every field has its plain type (a property test
    checks the bytes equal ``canonical_json`` of the object): an append of alternating nations
    makes one statement per event, and the general encoder cost more than the hashing.

    ``runs`` (two or more ``[first seq, length]``, in order, with gaps between them) makes the
    statement of a non-contiguous batch (``BATCH_RUNS_KIND``): the same fields plus ``runs``; its
    ``root`` is the Merkle root of the batch's leaf hashes in seq order."""
    batch_id, first_seq, size, nation, counterparty, root, keys_size, keys_head, time, runs = statement
    if runs is not None:
        return canonical_json(
            {
                "kind": BATCH_RUNS_KIND,
                "batch_id": batch_id,
                "first_seq": first_seq,
                "size": size,
                "nation": nation,
                "counterparty": counterparty,
                "root": root.hex(),
                "keys": keys_size,
                "keys_head": keys_head.hex(),
                "time": time,
                "runs": runs,
            }
        )
    if (
        type(batch_id) is int
        and type(first_seq) is int
        and type(size) is int
        and type(keys_size) is int
        and type(nation) is str
        and type(time) is str
        and (counterparty is None or type(counterparty) is str)
    ):
        cp = "null" if counterparty is None else _str(counterparty)
        return (
            f'{{"batch_id":{batch_id:d},"counterparty":{cp},"first_seq":{first_seq:d},"keys":{keys_size:d},'
            f'"keys_head":"{keys_head.hex()}","kind":"{BATCH_KIND}","nation":{_str(nation)},'
            f'"root":"{root.hex()}","size":{size:d},"time":{_str(time)}}}'
        ).encode()
    return canonical_json(
        {
            "kind": BATCH_KIND,
            "batch_id": batch_id,
            "first_seq": first_seq,
            "size": size,
            "nation": nation,
            "counterparty": counterparty,
            "root": root.hex(),
            "keys": keys_size,
            "keys_head": keys_head.hex(),
            "time": time,
        }
    )


def batch_runs(first_seq: int, size: int, runs: object) -> list[tuple[int, int]]:
    """The ``(first seq, length)`` runs of a batch's events: ``[(first_seq, size)]`` for a
    contiguous batch (``runs`` None), else the signed list, which must be canonical: two or more
    runs, each of length >= 1, increasing with a gap between any two (adjacent runs would be one),
    starting at ``first_seq`` and adding up to ``size``. Raises ValueError naming what is wrong."""
    if runs is None:
        return [(first_seq, size)]
    if not isinstance(runs, list) or len(runs) < 2:
        raise ValueError("runs must be a list of two or more [first seq, length]")
    out: list[tuple[int, int]] = []
    end = -1
    for r in runs:
        if not (isinstance(r, list) and len(r) == 2 and type(r[0]) is int and type(r[1]) is int):
            raise ValueError(f"run {r!r} is not [first seq, length]")
        if r[1] < 1 or r[0] < 1 or r[0] <= end + 1:
            raise ValueError(f"run {r!r} is empty, overlaps or touches the previous run")
        out.append((r[0], r[1]))
        end = r[0] + r[1] - 1
    if out[0][0] != first_seq or sum(n for _, n in out) != size:
        raise ValueError(f"runs do not start at first_seq {first_seq} or do not add up to size {size}")
    return out


def runs_of_seqs(seqs: list[int]) -> list[list[int]]:
    """The canonical runs of increasing sequence numbers."""
    out: list[list[int]] = []
    for s in seqs:
        if out and out[-1][0] + out[-1][1] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    return out

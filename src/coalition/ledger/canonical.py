"""The canonical encoding of what the custody ledger hashes and signs (stdlib only).

Part of the offline verifier (``coalition-verify``): it depends only on the standard library, so
a donor can audit it on its own; the producer imports the same definitions, so the two can never
disagree about the format. See docs/ledger.md ("Events", "Batches").
"""

from __future__ import annotations

import json

BUNDLE_FORMAT = "coalition-ledger-bundle/3"  # 3: heads.jsonl proves into the checkpoint's nation heads
GENESIS = bytes(32)  # "prev" of the first event
BATCH_KIND = "coalition-ledger/batch/v2"
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


def event_frame(counterparty: str | None, nation: str, person: str, prev_hex: str, seq: int,
                time: str, type: str, chain_text: str = "{}") -> tuple[str, str]:
    """The canonical text of an event body before and after its payload.

    With sorted keys an event body is always ``{"chain":{..},"counterparty":..,"nation":..,
    "payload":<payload>,"person":..,"prev":..,"seq":..,"time":..,"type":..}``, so
    ``head + canonical(payload) + tail`` is byte for byte ``canonical_json(event)`` (a property
    test checks it). ``chain_text`` is the canonical text of the per-nation chain links. The
    producer uses it to encode the payload only, and the database verifier to check a body
    without parsing it."""
    cp = "null" if counterparty is None else _str(counterparty)
    head = f'{{"chain":{chain_text},"counterparty":{cp},"nation":{_str(nation)},"payload":'
    tail = (f',"person":{_str(person)},"prev":"{prev_hex}","seq":{seq:d},"time":{_str(time)},'
            f'"type":{_str(type)}}}')
    return head, tail


_CHAIN_HEAD = '{"chain":'
_CHAIN_END = ',"counterparty":'


def chain_text_of(body: str) -> str | None:
    """The chain object's text at the start of a body (None if the body does not start so)."""
    if not body.startswith(_CHAIN_HEAD):
        return None
    end = body.find(_CHAIN_END, len(_CHAIN_HEAD))
    return body[len(_CHAIN_HEAD):end] if end > 0 else None



def batch_statement(
    *, batch_id: int, first_seq: int, size: int, nation: str, counterparty: str | None, root: bytes,
    keys_size: int, keys_head: bytes, time: str,
) -> bytes:
    """The bytes each party signs for a batch: its Merkle root, where it sits in the log, the key
    log it was signed under (size and head hash) and the signed commit time."""
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

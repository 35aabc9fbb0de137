"""The database verifier's bulk check of a chunk of stored events (standard library only).

A chunk of rows read in seq order is *clean* when every event is where it should be and says
exactly what its row and its batch say; :func:`check_chunk` then returns the leaf hashes and the
per-nation chain heads after it, and the caller does its bookkeeping in bulk. Anything else
returns None and the caller checks the chunk row by row, which names what is wrong: this module
never reports, it only decides that nothing is wrong.

A clean chunk means, for every event in it:

* its seq is the next one (the chunk's seqs are consecutive from the expected seq);
* SHA-256(0x00 || body) is the stored hash, and its stored previous hash is the previous
  event's (recomputed) hash;
* its body is ``{"chain":C,"counterparty":P,"nation":N,"payload":{...},"person":..,"prev":H,
  "seq":S,"time":..,"type":..}`` byte for byte, with P the counterparty and N the nation of the
  signed batch whose runs hold the seq, N the stored nation, H the hex of the previous hash, S the
  seq and the stored person, time and type (JSON-encoded as the canonical encoder does), and no
  ``"nation":``, ``"counterparty":`` or ``"chain":`` key anywhere in the payload (a parser keeps
  the last of two equal keys, so such a body goes to the full parse);
* its stored batch id is that batch's; a handover type has a counterparty;
* C is ``{"NAT":[k,"h"],...}`` (NAT a three-letter nation code): sorted, distinct nations,
  each with the next counter of its chain and the hex of the hash of its previous event (zeros for its first).

So a clean event says exactly what a JSON parse of its body would have found for every field
the verifier checks, and its batch check finds nothing about its nation, counterparty or type;
the payload bytes are covered by the hash, the chain and the batch signature. The caller uses
this only when the signed batches tile the log exactly (each seq in exactly one run).

Per event this is string comparisons and two dict operations (the verify hot path): the head of
the frame is compared in place, the chain text is rebuilt only for the nations it names.

A chunk can also be checked without the log before it (``guess``, for a worker process,
:mod:`coalition.ledger.rangecheck`): the chain heads it starts from are then read from the first
link that names each nation and returned in :attr:`Clean.before`; the chunk is clean only if the
caller finds the chain before it ends in exactly those heads (and the expected seq and ``prev``
it was given).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Sequence
from typing import NamedTuple

from coalition.ledger.canonical import CHAIN_END, CHAIN_HEAD, HANDOVER_TYPES, json_str
from coalition.ledger.nationheads import ChainHead

#: a ledger_event row as the driver returns it: seq, body, hash, prev_hash, time, nation, person,
#: type, batch_id (the hashes are bytes, or a buffer with the same content)
EventRow = tuple[int, str, bytes | memoryview, bytes | memoryview, str, str, str, str, int]
#: the row the bulk check reads (:data:`FAST_COLUMNS`): seq, body, hash, prev_hash, time, the
#: nation, person and type joined by :data:`SEP` (None if one is NULL), batch_id
FastRow = tuple[int, str, bytes | memoryview, bytes | memoryview, str, str | None, int]
SEP = "\x1f"
#: the SELECT list of a :data:`FastRow`: the three columns that repeat from event to event come
#: as one string (one object per row instead of three, and one cache lookup for their frame)
FAST_COLUMNS = f"seq, body, hash, prev_hash, time, nation || '{SEP}' || person || '{SEP}' || type, batch_id"

_CHAIN_NAMES = re.compile(r'"([A-Z]{3})":\[')  # the nations named in a canonical chain text
_NATION = re.compile(r"[A-Z]{3}")  # what a chain may name (anything else goes to the full parse)
_ZERO_HEX = "0" * 64
_AT = len(CHAIN_HEAD)  # where every body's chain text starts


#: (nation SEP person SEP type) -> that nation, the frame text from the payload's end to the prev
#: hash, the frame text after the time, and whether the type is a handover; None if the text does
#: not split in three (a field contains SEP: the joined text does not say what the fields are)
Fields = dict[str, tuple[str, str, str, bool] | None]


def _fields(cache: Fields, key: str) -> tuple[str, str, str, bool] | None:
    if key in cache:
        return cache[key]
    parts = key.split(SEP)
    got = None
    if len(parts) == 3:
        nation, person, typ = parts
        got = (nation, f'}},"person":{json_str(person)},"prev":"', f',"type":{json_str(typ)}}}', typ in HANDOVER_TYPES)
    if len(cache) > 10_000:
        cache.clear()  # memory stays flat whatever the log holds
    cache[key] = got
    return got


class Runs(NamedTuple):
    """The runs of the signed batches, sorted by first seq (a contiguous batch is one run): each
    run's first and last seq, and its batch's counterparty, id and nation."""

    first: list[int]
    end: list[int]
    counterparty: list[str | None]
    batch_id: list[int]
    nation: list[str]


#: a chain head as a body states it: the nation's counter and the hex of its last event's hash
Link = tuple[int, str]


class Clean(NamedTuple):
    """What a clean chunk leaves: its leaf hashes, the chain heads it moved (nation -> head),
    the heads it moved up to each wanted seq inside it (the heads there are the heads before
    the chunk updated by these), and the heads it took from before it (nation -> counter and
    hash hex, (0, zeros) for a nation with no event yet): a chunk is clean only if the chain
    before it ends in exactly these heads (checked against ``heads``, or by the caller when
    the chunk was checked with ``guess``)."""

    owns: list[bytes]
    heads: dict[str, ChainHead]
    marks: dict[int, dict[str, ChainHead]]
    before: dict[str, Link]


class _Chunk:
    """The state of one chunk's check: the chain heads it has moved so far (nation ->
    (counter, hex of the last hash, index in the chunk or -1 for a head from before it))."""

    def __init__(
        self,
        rows: Sequence[FastRow],
        owns: list[bytes],
        prev: bytes,
        heads: dict[str, ChainHead],
        cache: Fields,
        guess: bool,
    ) -> None:
        self.rows, self.owns, self.heads, self.cache, self.guess = rows, owns, heads, cache, guess
        self.hexes = [h.hex() for h in owns]
        self.prev_hex = [prev.hex(), *self.hexes[:-1]]  # the "prev" each body must state
        self.moved: dict[str, tuple[int, str, int]] = {}
        self.before: dict[str, Link] = {}

    def head(self, nation: str, text: str = "") -> tuple[int, str, int] | None:
        """The head of ``nation``'s chain so far (None: not a nation code, so no chain). With
        ``guess``, a nation missing from ``heads`` has the head its link in ``text`` (a chain
        text) says it follows; none if that link is not ``[counter >= 1, 64 hex digits]``."""
        got = self.moved.get(nation)
        if got is not None:
            return got
        if not _NATION.fullmatch(nation):
            return None
        old = self.heads.get(nation)
        if old is not None:
            link = (old[0], old[1].hex())
        elif not self.guess:
            link = (0, _ZERO_HEX)
        else:
            m = re.search(f'"{nation}":\\[([1-9][0-9]{{0,17}}),"([0-9a-f]{{64}})"\\]', text)
            if m is None:
                return None
            link = (int(m[1]) - 1, m[2])
        self.before[nation] = link
        return (link[0], link[1], -1)

    def link_many(self, text: str, idx: int) -> bool:
        """Chain text naming zero or several nations: rebuild it from the heads and compare."""
        names = _CHAIN_NAMES.findall(text)
        if names != sorted(set(names)):
            return False
        heads = [h for h in (self.head(n, text) for n in names) if h is not None]
        if len(heads) != len(names):
            return False
        expect = ",".join(f'"{n}":[{h[0] + 1},"{h[1]}"]' for n, h in zip(names, heads, strict=True))
        if "{" + expect + "}" != text:
            return False
        mine = self.hexes[idx]
        for n, h in zip(names, heads, strict=True):
            self.moved[n] = (h[0] + 1, mine, idx)
        return True

    def result(self) -> dict[str, ChainHead]:
        """The heads this chunk moved, as the chain checkers keep them."""
        return {n: (count, self.owns[i], self.rows[i][0]) for n, (count, _hx, i) in self.moved.items() if i >= 0}

    def run(self, i: int, k: int, runs: Runs, j: int, marks: dict[int, dict[str, ChainHead]]) -> bool:
        """Rows ``i..k-1``, all in run ``j``: is each one clean?"""
        cp, bid, nation = runs.counterparty[j], runs.batch_id[j], runs.nation[j]
        # what follows the chain text: the run's counterparty and nation, then the payload
        after = f'{CHAIN_END}{"null" if cp is None else json_str(cp)},"nation":{json_str(nation)},"payload":{{'
        na = len(after)
        moved, head, cache, hexes = self.moved, self.head, self.cache, self.hexes
        at = _AT + 2  # where the first nation code of the chain text starts
        ok: dict[str | None, tuple[str, str]] = {}  # the fields' frame text of each key fit for this run
        for idx, (seq, body, _h, _p, time, key, row_bid), ph in zip(
            range(i, k), self.rows[i:k], self.prev_hex[i:k], strict=True
        ):
            f = ok.get(key)
            if f is None:
                g = _fields(cache, key) if key is not None else None
                if g is None or g[0] != nation or (cp is None and g[3]):
                    return False  # not the run's nation, or a handover without a counterparty
                f = ok[key] = (g[1], g[2])
            if row_bid != bid:
                return False
            c = body[at : at + 3]
            got = moved.get(c) or head(c, body[_AT : _AT + 100])
            # the body's start if its chain text names one nation (most events)
            one = "" if got is None else f'{CHAIN_HEAD}{{"{c}":[{got[0] + 1},"{got[1]}"]}}{after}'
            if got is not None and body.startswith(one):
                moved[c] = (got[0] + 1, hexes[idx], idx)
                start = len(one)
            else:
                e = body.find(CHAIN_END, _AT)
                if e < 0 or not body.startswith(CHAIN_HEAD) or not body.startswith(after, e):
                    return False
                if not self.link_many(body[_AT:e], idx):
                    return False
                start = e + na
            tail = f'{f[0]}{ph}","seq":{seq:d},"time":{json_str(time)}{f[1]}'
            end = len(body) - len(tail)
            if end < start or not body.endswith(tail):
                return False
            mid = body[start - 1 : end + 1]  # the payload, braces included
            if '"nation":' in mid or '"counterparty":' in mid or '"chain":' in mid:
                return False  # a top-level key smuggled into the payload: the full parse decides
            if seq in marks:
                marks[seq] = self.result()
        return True


def check_chunk(
    rows: Sequence[FastRow],
    expected_seq: int,
    prev: bytes,
    runs: Runs,
    heads: dict[str, ChainHead],
    wanted: set[int],
    cache: Fields,
    *,
    guess: bool = False,
) -> Clean | None:
    """Check a chunk of event rows (read in seq order) against the chain so far (``expected_seq``,
    the ``prev`` hash, the per-nation ``heads``) and the signed batches' ``runs``: a
    :class:`Clean` if every event is clean (see the module docstring), else None. ``wanted``
    are the seqs after which the chain heads are needed (checkpoint sizes); ``cache`` keeps
    the frame text of each (nation, person, type) from chunk to chunk. Changes nothing it is
    given but the cache.

    ``guess``: the heads of nations missing from ``heads`` are not known (a worker checking a
    part of the log without what comes before it); each is taken from the first link that
    names it, and :attr:`Clean.before` lists them: the chunk is clean only if the caller finds
    that the chain before the chunk ends in those heads, and ``prev`` and ``expected_seq``
    are what it assumed for them."""
    n = len(rows)
    if n == 0:
        return None
    s0 = rows[0][0]
    if s0 != expected_seq or [r[0] for r in rows] != list(range(s0, s0 + n)):
        return None
    sha = hashlib.sha256
    hs = [r[2] for r in rows]  # bytes, or a buffer: == compares the content either way
    owns = [sha(b"\x00" + r[1].encode("utf-8")).digest() for r in rows]
    if owns != hs or rows[0][3] != prev or [r[3] for r in rows[1:]] != owns[:-1]:
        return None
    chunk = _Chunk(rows, owns, prev, heads, cache, guess)
    marks: dict[int, dict[str, ChainHead]] = dict.fromkeys((w for w in wanted if s0 <= w < s0 + n), {})
    j = bisect_left(runs.end, s0)  # the first run that ends at or after s0
    i = 0
    while i < n:
        if j >= len(runs.end) or runs.first[j] > s0 + i:
            return None  # an event outside every batch
        k = min(n, runs.end[j] - s0 + 1)
        if not chunk.run(i, k, runs, j, marks):
            return None
        i, j = k, j + 1
    return Clean(owns, chunk.result(), marks, chunk.before)

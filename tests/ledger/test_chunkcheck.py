"""The database verifier's bulk check of a chunk: clean rows pass with the chain heads a parse
would give; every kind of row the row-by-row check would report is refused (None)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from coalition.ledger.canonical import GENESIS, canonical_text
from coalition.ledger.checks import NationChains, Report
from coalition.ledger.chunkcheck import SEP, FastRow, Runs, check_chunk


def _rows(specs: list[dict[str, Any]]) -> list[FastRow]:
    """Rows for events (dicts with nation, type, chain nations, counterparty, person) in one
    chain, each with its stored hash, previous hash and batch id 7."""
    rows: list[FastRow] = []
    prev = GENESIS
    heads: dict[str, tuple[int, bytes]] = {}
    for seq, spec in enumerate(specs, start=1):
        chain = {}
        for n in spec.get("chain", [spec["nation"]]):
            count, last = heads.get(n, (0, GENESIS))
            chain[n] = [count + 1, last.hex()]
        body = canonical_text(
            {
                "chain": chain,
                "counterparty": spec.get("counterparty"),
                "nation": spec["nation"],
                "payload": spec.get("payload", {"manifest": f"M{seq}", "serials": ["S1"]}),
                "person": spec.get("person", "ana"),
                "prev": prev.hex(),
                "seq": seq,
                "time": spec.get("time", "2026-03-01T10:00:00Z"),
                "type": spec.get("type", "manifest"),
            }
        )
        own = hashlib.sha256(b"\x00" + body.encode()).digest()
        for n in chain:
            heads[n] = (chain[n][0], own)
        key = SEP.join([spec["nation"], spec.get("person", "ana"), spec.get("type", "manifest")])
        rows.append((seq, body, own, prev, spec.get("time", "2026-03-01T10:00:00Z"), key, 7))
        prev = own
    return rows


def _one_run(rows: list[FastRow], nation: str = "GBR", counterparty: str | None = None) -> Runs:
    return Runs([1], [len(rows)], [counterparty], [7], [nation])


def _parsed_heads(rows: list[FastRow]) -> dict[str, tuple[int, bytes, int]]:
    """The chain heads the full parse computes (the checker the bulk check must agree with)."""
    import json

    chains = NationChains(Report())
    for seq, body, own, *_ in rows:
        chains.add(seq, json.loads(body)["chain"], bytes(own))
    assert chains.report.ok
    return chains.heads


def _replace(row: FastRow, i: int, value: object) -> FastRow:
    return tuple(value if j == i else v for j, v in enumerate(row))  # type: ignore[return-value]


def test_clean_chunk_gives_the_parsed_chain_heads() -> None:
    specs = [{"nation": "GBR"}, {"nation": "GBR", "chain": ["DEU", "GBR"]}, {"nation": "GBR", "chain": []}]
    specs += [{"nation": "GBR", "chain": ["DEU"]}, {"nation": "GBR"}]
    rows = _rows(specs)
    clean = check_chunk(rows, 1, GENESIS, _one_run(rows), {}, {3}, {})
    assert clean is not None
    assert clean.owns == [r[2] for r in rows]
    assert clean.heads == _parsed_heads(rows)
    assert clean.marks[3] == _parsed_heads(rows[:3])


def test_chunk_continues_from_earlier_heads() -> None:
    rows = _rows([{"nation": "GBR"}] * 6)
    first = check_chunk(rows[:4], 1, GENESIS, _one_run(rows), {}, set(), {})
    assert first is not None
    rest = check_chunk(rows[4:], 5, first.owns[-1], _one_run(rows), dict(first.heads), set(), {})
    assert rest is not None and rest.heads == _parsed_heads(rows)
    assert check_chunk(rows[4:], 5, first.owns[-1], _one_run(rows), {}, set(), {}) is None  # heads lost


def _smuggled(payload_text: str) -> list[FastRow]:
    """One event whose payload text is replaced by ``payload_text`` (hash recomputed)."""
    (row,) = _rows([{"nation": "GBR"}])
    body = row[1].replace('{"manifest":"M1","serials":["S1"]}', payload_text)
    own = hashlib.sha256(b"\x00" + body.encode()).digest()
    return [(1, body, own, GENESIS, row[4], row[5], 7)]


BAD_ROWS = {
    "tampered body": lambda r: [_replace(r[0], 1, r[0][1].replace("M1", "M9")), *r[1:]],
    "stored hash": lambda r: [_replace(r[0], 2, bytes(32)), *r[1:]],
    "stored prev hash": lambda r: [r[0], _replace(r[1], 3, bytes(32)), *r[2:]],
    "seq gap": lambda r: [r[0], *[_replace(x, 0, x[0] + 1) for x in r[1:]]],
    "stored nation": lambda r: [_replace(r[0], 5, SEP.join(["FRA", "ana", "manifest"])), *r[1:]],
    "stored person": lambda r: [_replace(r[0], 5, SEP.join(["GBR", "bob", "manifest"])), *r[1:]],
    "stored type": lambda r: [_replace(r[0], 5, SEP.join(["GBR", "ana", "dispatch"])), *r[1:]],
    "separator in a field": lambda r: [_replace(r[0], 5, SEP.join(["GBR", f"ana{SEP}x", "manifest"])), *r[1:]],
    "null field": lambda r: [_replace(r[0], 5, None), *r[1:]],
    "stored time": lambda r: [_replace(r[0], 4, "2026-03-02T10:00:00Z"), *r[1:]],
    "stored batch id": lambda r: [_replace(r[0], 6, 8), *r[1:]],
}


@pytest.mark.parametrize("what", sorted(BAD_ROWS))
def test_rows_the_row_check_would_report_are_refused(what: str) -> None:
    rows = _rows([{"nation": "GBR"}] * 3)
    assert check_chunk(rows, 1, GENESIS, _one_run(rows), {}, set(), {}) is not None
    bad = BAD_ROWS[what](rows)
    assert check_chunk(bad, 1, GENESIS, _one_run(rows), {}, set(), {}) is None


@pytest.mark.parametrize(
    "payload",
    ['{"a":1},"nation":"FRA","x":{}', '{"a":1},"counterparty":"FRA","x":{}', '{"a":1},"chain":{},"x":{}'],
)
def test_a_top_level_key_smuggled_into_the_payload_is_refused(payload: str) -> None:
    rows = _smuggled(payload)
    assert check_chunk(rows, 1, GENESIS, _one_run(rows), {}, set(), {}) is None
    assert check_chunk(_smuggled('{"a":1}'), 1, GENESIS, _one_run(rows), {}, set(), {}) is not None


def test_wrong_batch_or_chain_is_refused() -> None:
    rows = _rows([{"nation": "GBR"}] * 3)
    assert check_chunk(rows, 1, GENESIS, _one_run(rows, nation="FRA"), {}, set(), {}) is None
    assert check_chunk(rows, 1, GENESIS, _one_run(rows, counterparty="FRA"), {}, set(), {}) is None
    assert check_chunk(rows, 1, GENESIS, Runs([1], [2], [None], [7], ["GBR"]), {}, set(), {}) is None  # outside
    assert check_chunk(rows, 2, GENESIS, _one_run(rows), {}, set(), {}) is None  # not the expected seq
    # a relinked chain: the second event's counter says 1 again
    relinked = _rows([{"nation": "GBR"}, {"nation": "GBR", "chain": ["DEU"]}])
    body = relinked[1][1].replace('"DEU":[1,', '"GBR":[1,')
    own = hashlib.sha256(b"\x00" + body.encode()).digest()
    relinked[1] = (2, body, own, relinked[0][2], relinked[1][4], relinked[1][5], 7)
    assert check_chunk(relinked, 1, GENESIS, _one_run(relinked), {}, set(), {}) is None
    # unsorted nations in the chain text
    two = _rows([{"nation": "GBR", "chain": ["DEU", "GBR"]}])
    body = two[0][1].replace(
        '{"DEU":[1,"' + "0" * 64 + '"],"GBR":[1,"' + "0" * 64 + '"]}',
        '{"GBR":[1,"' + "0" * 64 + '"],"DEU":[1,"' + "0" * 64 + '"]}',
    )
    own = hashlib.sha256(b"\x00" + body.encode()).digest()
    unsorted: list[FastRow] = [(1, body, own, GENESIS, two[0][4], two[0][5], 7)]
    assert check_chunk(unsorted, 1, GENESIS, _one_run(two), {}, set(), {}) is None


def test_a_handover_without_counterparty_is_refused() -> None:
    rows = _rows([{"nation": "GBR", "type": "receipt"}])
    assert check_chunk(rows, 1, GENESIS, _one_run(rows), {}, set(), {}) is None
    signed = _rows([{"nation": "GBR", "type": "receipt", "counterparty": "FRA"}])
    assert check_chunk(signed, 1, GENESIS, _one_run(signed, counterparty="FRA"), {}, set(), {}) is not None


def test_a_chain_naming_no_nation_code_is_refused() -> None:
    """``{"A"B":[1,"00.."]}`` has the shape of a one-nation link but is not JSON: the full parse
    must report it, so the bulk check must not take it."""
    (row,) = _rows([{"nation": "GBR"}])
    body = row[1].replace('{"GBR":[1,', '{"A"B":[1,')
    own = hashlib.sha256(b"\x00" + body.encode()).digest()
    rows: list[FastRow] = [(1, body, own, GENESIS, row[4], row[5], 7)]
    assert check_chunk(rows, 1, GENESIS, _one_run(rows), {}, set(), {}) is None

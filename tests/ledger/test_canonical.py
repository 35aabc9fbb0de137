"""The canonical encoding (coalition.ledger.canonical): sorted, compact UTF-8, and the event
frame the producer and the database verifier use is byte for byte that encoding."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.ledger.canonical import canonical_json


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]}) == '{"a":[1,{"c":null,"d":"é"}],"b":1}'.encode()


_text = st.text(max_size=12)
_json = st.recursive(st.none() | st.booleans() | st.integers() | _text,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(counterparty=st.none() | _text, nation=_text, person=_text, seq=st.integers(1, 10**12), time=_text,
       type=_text, payload=st.dictionaries(_text, _json, max_size=4), prev=st.binary(min_size=32, max_size=32),
       chain=st.dictionaries(st.from_regex(r"^[A-Z]{3}$", fullmatch=True),
                             st.tuples(st.integers(1, 10**9), st.just("ab" * 32)).map(list), max_size=3))
def test_event_frame_is_the_canonical_encoding(counterparty, nation, person, seq, time, type, payload, prev, chain) -> None:  # type: ignore[no-untyped-def]
    """The producer encodes only the payload and frames it; the result must be the canonical
    encoding of the whole event, whatever the strings hold (quotes, escapes, non-ASCII)."""
    from coalition.ledger.service import EventHeader, event_body

    whole = canonical_json({"seq": seq, "time": time, "nation": nation, "person": person, "type": type,
                            "payload": payload, "prev": prev.hex(), "counterparty": counterparty, "chain": chain})
    assert event_body(EventHeader(seq=seq, time=time, nation=nation, person=person, type=type, prev=prev,
                                  counterparty=counterparty, chain=chain), payload) == whole
    # the append path builds each link as a (counter, hash) tuple: the same JSON array
    links = {n: (c, h) for n, (c, h) in chain.items()}
    assert event_body(EventHeader(seq=seq, time=time, nation=nation, person=person, type=type, prev=prev,
                                  counterparty=counterparty, chain=links), payload) == whole


@settings(max_examples=200, deadline=None)
@given(batch_id=st.integers(0, 10**15), first_seq=st.integers(0, 10**15), size=st.integers(0, 10**6),
       nation=_text, counterparty=st.none() | _text, root=st.binary(min_size=32, max_size=32),
       keys_size=st.integers(0, 10**6), keys_head=st.binary(min_size=32, max_size=32), time=_text)
def test_batch_statement_is_the_canonical_encoding(batch_id, first_seq, size, nation, counterparty, root,  # type: ignore[no-untyped-def]
                                                   keys_size, keys_head, time) -> None:
    from coalition.ledger.canonical import BATCH_KIND, BatchStatement, batch_statement

    whole = canonical_json({"kind": BATCH_KIND, "batch_id": batch_id, "first_seq": first_seq, "size": size,
                            "nation": nation, "counterparty": counterparty, "root": root.hex(), "keys": keys_size,
                            "keys_head": keys_head.hex(), "time": time})
    assert batch_statement(BatchStatement(batch_id=batch_id, first_seq=first_seq, size=size, nation=nation,
                           counterparty=counterparty, root=root, keys_size=keys_size, keys_head=keys_head,
                           time=time)) == whole


@settings(max_examples=300, deadline=None)
@given(chain=st.dictionaries(_text, st.tuples(st.integers(-(10**18), 10**18), _text), max_size=4),
       other=st.dictionaries(_text, _json, max_size=3))
def test_chain_text_is_the_canonical_encoding(chain, other) -> None:  # type: ignore[no-untyped-def]
    """The hand-framed chain links equal the general encoder's text for any nation and hash
    strings (quotes, escapes, non-ASCII); any other shape falls back to the encoder."""
    from coalition.ledger.canonical import canonical_text, chain_text

    assert chain_text(chain) == canonical_text(chain)
    assert chain_text({k: list(v) for k, v in chain.items()}) == canonical_text(chain)
    assert chain_text(other) == canonical_text(other)  # type: ignore[arg-type]

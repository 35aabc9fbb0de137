"""A stocktake at a location holding GBR, DEU and POL items is recorded as one count per title
nation: no event released to Britain names a German serial, the log still verifies, and the
reconciliation combines the parts."""

from __future__ import annotations

import json

from sqlalchemy import select

from coalition.auth.schemas import Principal, Role
from coalition.ledger import custody
from coalition.ledger.models import LedgerEvent
from coalition.ledger.queries import titles
from ledger.conftest import keys_dir, ledger  # noqa: F401  (fixtures)
from ledger.ledger_helpers import Ledger, ev, manifest

WHERE = "UA-LVIV/LV-D1/SH-1"


def who(name: str, nation: str, role: Role = Role.INSPECTOR) -> Principal:
    return Principal(user_id=None, name=name, nation=nation, roles=frozenset({role}))


def _stock(ledger: Ledger) -> None:  # noqa: F811
    for nation, n in (("GBR", 2), ("DEU", 2), ("POL", 1)):
        m = f"M-{nation}"
        ledger.append(manifest(m, nation, serials=n, lot_qty=0, prefix=f"{nation}-S"),
                      ev("dispatch", nation, {"manifest": m}),
                      ev("receipt", "FRA", {"manifest": m, "location": WHERE,
                                            "serials": [f"{nation}-S{i}" for i in range(n)]}))


def test_a_stocktake_reaches_britain_without_a_german_serial(ledger: Ledger) -> None:  # noqa: F811
    _stock(ledger)
    counted = ["GBR-S0", "DEU-S0", "DEU-S1", "POL-S0", "UNKNOWN-9"]
    res = ledger.append(ev("count", "POL", {"location": WHERE, "serials": counted}, time="2026-03-09T10:00:00Z"))
    with ledger.session() as s:
        rows = list(s.scalars(select(LedgerEvent).where(LedgerEvent.seq >= res.first_seq)
                              .order_by(LedgerEvent.seq)))
        seen = titles(s, [r.seq for r in rows])
        bodies = {r.seq: json.loads(r.body) for r in rows}
        assert [b["payload"]["title"] for b in bodies.values()] == ["DEU", "GBR", "POL", "unrecorded"]
        assert {b["payload"]["stocktake"] for b in bodies.values()} == {res.first_seq}
        british = [seq for seq, t in seen.items() if "GBR" in t]
        assert british, "Britain is released its part"
        for seq in british:
            assert "DEU-S" not in rows[seq - res.first_seq].body, seq
            assert "UNKNOWN-9" not in rows[seq - res.first_seq].body, seq
        unrec = next(seq for seq, b in bodies.items() if b["payload"]["title"] == "unrecorded")
        assert seen[unrec] == set()  # released only to the counter and HQ
        # the reconciliation of any part is the whole stocktake, cut per reader
        parts, counts = custody.stocktake_counts(s, british[0])
        assert [p.seq for p in parts] == list(bodies) and sorted(c.serial for c in counts) == sorted(counted)
        hq = custody.visible_reconciliation(s, who("hq", "HQ"), counts, counter="POL")
        assert {(x.ref, x.finding) for x in hq.lines} >= {("GBR-S1", "missing"), ("DEU-S0", "ok"),
                                                          ("UNKNOWN-9", "unexpected")}
        gbr = custody.visible_reconciliation(s, who("g", "GBR"), counts, counter="POL")
        assert {x.ref for x in gbr.lines} == {"GBR-S0", "GBR-S1"} and gbr.withheld == []
    report = ledger.verify()
    assert report.ok, report

"""coalition.sustain.report: the JSON and flat tables of a sustainment report. Unknown stays
unknown (None, never 0) and is flagged; the tables carry the JSON's numbers row for row; the
figures scale with the personnel behind them."""

from __future__ import annotations

from coalition.sustain.report import report_json, report_tables
from coalition.sustain.service import build_report
from tests.sustain.builders import scenario, ul, view


def _report(*lines):  # type: ignore[no-untyped-def]
    rep = build_report(scenario(), view(*lines))
    return rep, report_json(rep)


def test_unknown_demand_is_none_and_flagged_never_zero() -> None:
    _, j = _report(ul("u1", "inf", "a", 0, 9), ul("u2", "trg", "c", 5, 20))
    hubs = {h["hub"]: h for h in j["hubs"]}
    trg_v = hubs["c"]["ranges"][0]["classes"]["V"]  # the scenario gives no Class V factor for trg
    assert trg_v["demand_kg"] is None and trg_v["dos_on_hand"] is None
    assert "unknown: no V factor for trg" in trg_v["flags"]
    assert "unknown: no V factor for trg" in j["flags"]
    inf_v = hubs["a"]["ranges"][0]["classes"]["V"]  # 2 kg per person-day x 500
    assert inf_v["demand_kg"] == 1000.0 and inf_v["demand_t"] == 1.0
    assert "illustrative" in j["flags"]


def test_demand_scales_with_personnel() -> None:
    _, one = _report(ul("u1", "inf", "a", 0, 9, 500))
    _, two = _report(ul("u1", "inf", "a", 0, 9, 1000))
    c1 = one["hubs"][0]["ranges"][0]["classes"]
    c2 = two["hubs"][0]["ranges"][0]["classes"]
    for cls in ("I", "III(B)", "V"):
        key = next(k for k in c1[cls] if k.startswith("demand_"))
        assert c2[cls][key] == 2 * c1[cls][key]


def test_tables_carry_the_json_row_for_row() -> None:
    rep, j = _report(ul("u1", "inf", "a", 0, 9), ul("u2", "trg", "c", 5, 20))
    tables = report_tables(rep, j)
    assert set(tables) >= {"demand", "stock", "class_v", "medical", "uncovered", "precedence"}
    for name, (header, rows) in tables.items():
        assert all(len(r) == len(header) for r in rows), name
    header, rows = tables["demand"]
    assert len(rows) == sum(len(h["ranges"]) for h in j["hubs"])
    col = header.index("V_demand_kg")
    by_hub = {r[0]: r for r in rows}
    assert by_hub["a"][col] == 1000.0 and by_hub["c"][col] is None  # unknown stays None in the table
    # the tables are the same whether the JSON is passed in or made again
    assert report_tables(rep) == tables


def test_no_depot_at_a_hub_gives_zero_legal_class_v_days_with_the_remedy() -> None:
    rep, j = _report(ul("u1", "inf", "a", 0, 9))
    header, rows = report_tables(rep, j)["class_v"]
    row = dict(zip(header, rows[0], strict=True))
    assert row["hub"] == "a" and row["legal_class_v_days"] == 0.0
    assert row["method"] == "no depot at the hub" and "licensed Class V storage" in row["raise_by"]

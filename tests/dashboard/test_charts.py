"""The pure view models of the sustainment and analysis pages: they arrange the services'
numbers and never add, reorder or reveal what a redacted answer leaves out."""

from __future__ import annotations

from coalition.dashboard.charts import dos_charts, mc_heatmap, medical_layer, tornado


def test_tornado_sorts_a_full_view_by_loss_and_keeps_a_redacted_order_without_bars() -> None:
    full = {"redacted": False, "n_1": [
        {"nations": ["AAA"], "lines_broken": [], "delta_essential_coverage_pct": -1.0},
        {"nations": ["BBB"], "lines_broken": ["R1"], "delta_essential_coverage_pct": -4.0},
        {"nations": ["CCC"], "lines_broken": [], "delta_essential_coverage_pct": 0.5}]}
    bars = tornado(full)
    assert [b.label for b in bars] == ["BBB", "AAA", "CCC"]
    assert [b.width for b in bars] == [100.0, 25.0, 12.5]
    redacted = {"redacted": True, "n_1": [{"nations": ["ZZZ"], "lines_broken": ["R2"]},
                                          {"nations": ["AAA"], "lines_broken": []}]}
    bars = tornado(redacted)
    assert [b.label for b in bars] == ["ZZZ", "AAA"]  # the policy's order, not re-sorted
    assert all(b.value is None and b.width == 0 for b in bars)


def test_heatmap_cells_full_banded_and_not_needed() -> None:
    days, rows = mc_heatmap({"lines": [
        {"line": "R1", "by_day": {"90": {"p": 0.45, "se": 0.05}, "30": {"p": None, "se": None}}},
        {"line": "R2", "by_day": {"30": {"band": "sometimes"}, "90": {"band": None}}}]})
    assert days == ["30", "90"]
    r1, r2 = rows[0][1], rows[1][1]
    assert not r1[0].needed and (r1[1].text, r1[1].se, r1[1].cls) == ("0.45", 0.05, "h2")
    assert (r2[0].band, r2[0].cls, r2[0].text) == ("sometimes", "h2", "")
    assert not r2[1].needed


def test_dos_chart_keeps_every_range_and_scales_to_the_largest_value() -> None:
    demand = {"horizon_days": 100, "hubs": [{"hub": "H", "name": "Hub", "ranges": [
        {"start_day": 0, "end_day": 49, "personnel": 10,
         "classes": {"I": {"dos_on_hand": 4.0, "flags": ["unverified"]}}},
        {"start_day": 50, "end_day": 99, "personnel": 20,
         "classes": {"I": {"dos_on_hand": 2.0, "flags": []}}}]}]}
    (chart,) = dos_charts(demand)
    assert chart.y_max == 4.0 and chart.classes == ["I"]
    assert [r["dos"]["I"] for r in chart.rows] == [4.0, 2.0]
    assert chart.rows[0]["flags"] == ["unverified"] and chart.rows[1]["flags"] == []
    assert len(chart.series[0].points.split()) == 4


def test_medical_layer_groups_uncovered_ranges_by_hub() -> None:
    med = {"uncovered": [{"hub": "A", "start_day": 1, "end_day": 2, "reason": "x", "constrained": False},
                         {"hub": "A", "start_day": 5, "end_day": 6, "reason": "y", "constrained": True}]}
    assert [u["reason"] for u in medical_layer(med)["A"]] == ["x", "y"]
    assert medical_layer({"uncovered": []}) == {}

"""Pure view models of the dashboard: projection, heatmap, Gantt lanes, hub fill."""

from __future__ import annotations

from coalition.dashboard import geo, views


def test_projection_keeps_geography() -> None:
    kyiv, lviv, odesa = geo.project(50.45, 30.52), geo.project(49.84, 24.02), geo.project(46.49, 30.74)
    assert lviv[0] < kyiv[0]  # west is left
    assert kyiv[1] < odesa[1]  # north is up
    assert 0 < lviv[0] < geo.WIDTH and 0 < odesa[1] < geo.HEIGHT
    # ~111 km per degree of latitude: Kyiv-Odesa ~ 440 km north-south
    km = (odesa[1] - kyiv[1]) / geo.PX_PER_KM
    assert 420 < km < 460


def test_bundled_boundaries_are_small_and_attributed() -> None:
    shapes = {c.iso3: c for c in geo.countries()}
    assert {"UKR", "POL", "ROU", "MDA", "BLR", "RUS"} <= set(shapes)
    assert "Natural Earth" in geo.attribution()
    assert geo.REGION_FILE.stat().st_size < 300_000
    # Crimea (45.0N 34.1E) is drawn inside Ukraine's recognised borders, not Russia's
    owners = {c["iso3"] for c in geo.region()["countries"]
              if any(_inside((34.1, 45.0), ring) for ring in c["rings"])}
    assert owners == {"UKR"}


def _inside(pt: tuple[float, float], ring: list[list[float]]) -> bool:
    x, y = pt
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            hit = not hit
    return hit


def test_heat_classes_and_heatmap() -> None:
    assert [views.heat_class(r) for r in (None, 0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)] == [
        "hnone", "h0", "h0", "h1", "h2", "h3", "h4", "h4"]
    fill = [
        {"capability": "inf", "hub": "A", "period": 0, "start_day": 0, "required": 2, "filled": 1},
        {"capability": "inf", "hub": "A", "period": 1, "start_day": 28, "required": 2, "filled": 3},
        {"capability": "eng", "hub": "B", "period": 0, "start_day": 0, "required": 1, "filled": 0},
    ]
    hm = views.heatmap_from_fill(fill)
    assert hm.capabilities == ["eng", "inf"] and hm.hubs == ["A", "B"]
    assert hm.cells[("inf", "A")]["pct"] == 75  # 1 + min(3, 2) of 4: over-fill does not count
    assert hm.cells[("eng", "B")]["pct"] == 0
    assert views.hub_fill(fill) == {"A": 0.75, "B": 0.0}


def _line(uln: str, req: str, start: int, end: int, nation: str = "GBR", **extra: object) -> dict:
    return {"uln": uln, "nation": nation, "pledge": f"{nation}-1", "unit": f"{nation}-1#1",
            "capability": "inf", "requirement": req, "hub": "A", "arrival_day": start - 3,
            "tour_start_day": start, "tour_end_day": end, "required_day": start, "days_late": 0,
            **extra}


def test_gantt_packs_rotations_into_lanes_and_greys_restricted() -> None:
    lines = [_line("U1", "R1", 0, 182), _line("U2", "R1", 182, 364),  # relief: same lane
             _line("U3", "R1", 100, 200, nation="(restricted)", restricted=True)]  # overlaps
    g = views.gantt(lines, 364)
    assert [r["label"] for r in g.rows] == ["A · R1 #1", "A · R1 #2"]
    assert len(g.rows[0]["bars"]) == 2 and len(g.rows[1]["bars"]) == 1
    assert g.rows[1]["bars"][0]["colour"] == views.RESTRICTED_COLOUR
    assert ("restricted (another nation)", views.RESTRICTED_COLOUR) in g.legend
    assert all(b["x"] >= g.left for r in g.rows for b in r["bars"])


def test_uln_table_sorts_filters_and_pages_over_the_whole_plan() -> None:
    lines = [_line(f"U{i:03d}", f"R{i % 7}", start=(i * 37) % 400, end=(i * 37) % 400 + 182,
                   nation=("GBR", "FRA", "POL")[i % 3]) for i in range(173)]
    seen = []
    page, pages = 1, None
    while pages is None or page <= pages:
        t = views.uln_table(lines, page=page, size=50)
        seen += [u["uln"] for u in t.rows]
        pages, page = t.pages, page + 1
    assert pages == 4 and sorted(seen) == sorted(u["uln"] for u in lines)
    t = views.uln_table(lines, sort="arrival_day", desc=True, size=500)
    days = [u["arrival_day"] for u in t.rows]
    assert days == sorted(days, reverse=True)  # numbers sort as numbers
    t = views.uln_table(lines, filters={"nation": "FRA"}, q="r3", size=500)
    assert t.rows and all(u["nation"] == "FRA" and u["requirement"] == "R3" for u in t.rows)
    assert t.total == len(t.rows) and t.all_lines == 173
    assert views.uln_table(lines, page=99).page == 4  # past the end: the last page
    assert views.uln_table(lines, sort="no_such_column").rows[0]["uln"] == "U000"


def test_gantt_draws_every_line_of_a_173_line_plan() -> None:
    """The old chart stopped at 80 rows (157 of 173 lines drawn): now every line is a bar."""
    lines = [_line(f"U{i:03d}", f"R{i:03d}", start=(i * 11) % 300, end=(i * 11) % 300 + 182)
             for i in range(173)]
    g = views.gantt(lines, 728)
    bars = [b["uln"] for r in g.rows for b in r["bars"]]
    assert len(g.rows) == 173 > 80 and sorted(bars) == sorted(u["uln"] for u in lines)
    assert g.height >= 24 + 173 * 16


def test_map_model_lists_regional_fill_and_points_hubs_to_it() -> None:
    from coalition.scenario.service import load_scenario

    sc = load_scenario()  # the embedded scenario
    region = sc.hubs[0].region
    m = views.map_model(sc, {region: 0.5, sc.hubs[1].id: 1.0})
    assert [r["name"] for r in m.regions] == [region] and m.regions[0]["fill"] == 50
    first = next(h for h in m.hubs if h["id"] == sc.hubs[0].id)
    assert first["fill"] is None and first["region_fill"] == 50
    assert next(h for h in m.hubs if h["id"] == sc.hubs[1].id)["fill"] == 100
    assert abs(m.scale_px - 200 * geo.PX_PER_KM) < 0.1


def test_regional_fill_as_the_plan_names_it_is_drawn_over_the_regions_hubs() -> None:
    """The plan's fill cells name a regional line's place "region:<name>" (planner.tables):
    the map matches it to the hubs of that region, lists them and draws their area."""
    from coalition.scenario.service import load_scenario

    sc = load_scenario()
    region = sc.hubs[1].region  # UA-West: several hubs
    members = sorted(h.name for h in sc.hubs if h.region == region)
    assert len(members) >= 2
    m = views.map_model(sc, {f"region:{region}": 0.25})
    assert [(r["name"], r["hubs"]) for r in m.regions] == [(region, members)]
    assert m.regions[0]["path"].startswith("M") and m.regions[0]["cls"] == "h1"
    assert all(h.get("region_fill") == 25 for h in m.hubs if h["name"] in members)

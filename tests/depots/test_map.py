"""coalition.depots.map: the Q-D map is a well-formed SVG whose arcs are the required distances
per relation, drawn red exactly where a site is inside one; a formula outside its range is
listed, never drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from coalition.depots.map import depot_svg
from coalition.depots.schemas import StockLine

from .conftest import tiny

NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(stock: list[StockLine], **kw: object) -> ET.Element:
    net = tiny([], **kw)  # type: ignore[arg-type]
    text = depot_svg(net.depots[0], stock, net.catalogue)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.split("\n", 1)[1])


def _classes(el: ET.Element) -> set[str]:
    return set((el.get("class") or "").split())


def test_empty_depot_draws_storehouses_and_sites_but_no_arcs() -> None:
    root = _svg([])
    arcs = root.find("s:g[@id='arcs']", NS)
    assert arcs is not None and len(arcs) == 0
    houses = root.findall("s:g[@id='storehouses']/s:rect", NS)
    assert len(houses) == 3 and not any("violation" in _classes(h) for h in houses)
    legend = "".join(root.find("s:g[@id='legend']", NS).itertext())  # type: ignore[union-attr]
    assert "no stock held: no arcs" in legend


def test_far_sites_are_outside_every_arc() -> None:
    root = _svg([StockLine(storehouse="S1", lot="he-1", quantity=1)])  # 10 kg of 1.1D
    arcs = root.findall("s:g[@id='arcs']/s:circle", NS)
    assert arcs, "stock held: its required distances are drawn"
    assert all(_classes(a) == {"arc"} for a in arcs)
    assert not root.findall(".//*[@class='violation']", NS)


def test_a_site_inside_its_distance_is_red_and_named() -> None:
    # a large 1.1 quantity next to an inhabited building 30 m away
    exposed = [{"id": "house", "kind": "inhabited-building", "points": [[0, -30]]}]
    root = _svg([StockLine(storehouse="S1", lot="he-1", quantity=5000)], exposed=exposed)
    bad_arcs = [a for a in root.findall("s:g[@id='arcs']/s:circle", NS) if "violation" in _classes(a)]
    assert bad_arcs
    titles = [a.find("s:title", NS).text or "" for a in bad_arcs]  # type: ignore[union-attr]
    assert all("VIOLATED" in t and t.startswith("S1:") for t in titles)
    site = root.find("s:g[@id='exposed-sites']/s:circle", NS)
    assert site is not None and "violation" in _classes(site)
    house = root.find("s:g[@id='storehouses']/s:rect", NS)  # S1, the storehouse at fault
    assert house is not None and "violation" in _classes(house)

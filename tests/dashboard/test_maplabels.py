"""Map labels do not collide: on the embedded scenario, at every zoom level, no two visible
label boxes overlap, no label covers another point's marker, and every label stays on the map;
a label that cannot be placed is hidden, never drawn over another."""

from __future__ import annotations

import itertools

import pytest

from coalition.dashboard import maplabels, views
from coalition.dashboard.maplabels import Label, box, marker_box, overlaps, place


def _model(with_fill: bool) -> views.MapModel:
    from coalition.scenario.service import load_scenario

    sc = load_scenario()
    fill = {h.id: (i % 5) / 4 for i, h in enumerate(sc.hubs)} if with_fill else None
    return views.map_model(sc, fill, list(sc.depots.depots))


def _placed_boxes(m: views.MapModel, level: int) -> dict[str, maplabels.Box]:
    """The boxes of the labels as the page draws them at ``level`` (from their ``pl`` data)."""
    labels = {lb.key: lb for lb in views.map_labels(m)}
    idx = maplabels.LEVELS.index(level)
    out = {}
    items = ([(f"hub:{h['id']}", h) for h in m.hubs] + [(f"rear:{r['id']}", r) for r in m.rear_nodes]
             + [(f"country:{c['iso3']}", c) for c in m.country_labels])
    for key, item in items:
        part = item["label"]["pl"].split("|")[idx]
        if part == "-":
            continue
        x, y, anchor = part.split(",")
        lb = labels[key]
        p = maplabels.Placement((float(x) - lb.x) * level, (float(y) - lb.y) * level, anchor)
        out[key] = box(lb, p, level)
    return out


@pytest.mark.parametrize("with_fill", [False, True])
@pytest.mark.parametrize("level", maplabels.LEVELS)
def test_no_two_visible_labels_overlap_on_the_embedded_scenario(level: int, with_fill: bool) -> None:
    m = _model(with_fill)
    boxes = _placed_boxes(m, level)
    assert len(boxes) >= 20  # most labels are shown, not hidden to pass the test
    for (ka, a), (kb, b) in itertools.combinations(boxes.items(), 2):
        assert not overlaps(a, b), (level, ka, kb, a, b)
    labels = views.map_labels(m) + views._obstacles(m)
    for key, b in boxes.items():
        assert 0 <= b[0] and b[2] <= m.width and 0 <= b[1] and b[3] <= m.height, key
        for other in labels:
            mb = marker_box(other, level)
            if other.key != key and mb is not None:
                assert not overlaps(b, mb), (level, key, other.key)


def test_the_pass_does_work_naive_east_labels_would_collide() -> None:
    """Without the pass (every label east of its point) the embedded map has collisions, so the
    test above is not passing by luck; the pass moves or hides labels to avoid them."""
    m = _model(True)
    labels = [lb for lb in views.map_labels(m) if not lb.centred]
    east = [box(lb, maplabels._candidates(lb)[0]) for lb in labels]
    assert any(overlaps(a, b) for a, b in itertools.combinations(east, 2))
    chosen = place(labels, m.width, m.height)
    moved = [k for k, p in chosen.items() if p != maplabels._candidates(
        next(lb for lb in labels if lb.key == k))[0]]
    assert moved


def test_more_labels_fit_when_zoomed_in() -> None:
    m = _model(True)
    counts = [len(_placed_boxes(m, k)) for k in maplabels.LEVELS]
    assert counts == sorted(counts) and counts[-1] > counts[0], counts


def test_a_crowd_hides_what_cannot_be_placed_by_priority() -> None:
    crowd = [Label(f"p{i}", f"Place number {i}", 100 + i * 0.5, 100, priority=10 - i)
             for i in range(6)]
    out = place(crowd, 400, 200)
    assert out["p0"] is not None  # the highest priority is always placed first
    shown = [k for k, p in out.items() if p is not None]
    hidden = [k for k, p in out.items() if p is None]
    assert hidden and len(shown) >= 1
    boxes = [box(lb, out[lb.key]) for lb in crowd if out[lb.key] is not None]  # type: ignore[arg-type]
    assert not any(overlaps(a, b) for a, b in itertools.combinations(boxes, 2))


def test_a_label_at_the_edge_stays_inside() -> None:
    lb = Label("e", "Right at the edge", 395, 5, 1.0)
    p = place([lb], 400, 200)["e"]
    assert p is not None and p.anchor == "end"  # west and below, inside the map
    b = box(lb, p)
    assert b[0] >= 0 and b[2] <= 400 and b[1] >= 0


def test_text_width_grows_with_the_text() -> None:
    assert maplabels.text_width("Ivano-Frankivsk", 11.5) > maplabels.text_width("Kyiv", 11.5) > 0

"""10-1-2 medical coverage on the equator scenario (road minutes = km at 60 km/h, factor 1)."""

from __future__ import annotations

import pytest

from coalition.errors import InputError
from coalition.geo import haversine_km
from coalition.scenario.schemas import MedevacPledge
from coalition.sustain.medical import covered, medical_feasible, medical_picture
from tests.sustain.builders import scenario, sustainment, ul, view

KM_AB = haversine_km((0, 0), (0, 1))  # 111.2
KM_BC = haversine_km((0, 1), (0, 3))  # 222.4


def _at(pic, hub, day):  # type: ignore[no-untyped-def]
    return next(r for r in pic.ranges if r.hub == hub and r.start_day <= day <= r.end_day)


def test_road_times_and_coverage_by_hand() -> None:
    v = view(ul("i1", "inf", "a", 0, 29), ul("m2", "r2", "b", 0, 29), ul("t1", "trg", "c", 0, 29))
    pic = medical_picture(v, scenario())
    a, c = _at(pic, "a", 5), _at(pic, "c", 5)
    assert a.role1_minutes == 0.0  # the battalion's own Role 1
    assert a.role2_minutes == pytest.approx(KM_AB, abs=0.01) and a.covered
    assert a.role3_minutes is None
    assert c.role2_minutes == pytest.approx(KM_BC, abs=0.01) and c.role1_minutes == pytest.approx(KM_BC, abs=0.01)
    assert not c.covered and c.constrained_units == 1
    (u,) = [u for u in pic.uncovered if u.hub == "c"]
    assert (u.start_day, u.end_day, u.constrained) == (0, 29, True)
    assert "Role 2 at 222 min" in u.reason and "Role 1 at 222 min" in u.reason
    # shares of personnel-days: a (500) and b (100) are within 1 h? b has a Role 2 itself (Role 1 too)
    total = 500 + 100 + 50
    assert pic.share_within_2h == pytest.approx((500 + 100) / total)
    assert pic.share_within_1h == pytest.approx((500 + 100) / total)


def test_medevac_brings_a_far_hub_within_two_hours_only_while_present() -> None:
    # MEDEVAC based at b (pledge base), present days 10-19: c -> b by air = (222.4 + 222.4) km / 250 km/h
    v = view(ul("t1", "trg", "c", 0, 29), ul("m2", "r2", "b", 0, 29), ul("h1", "heli", "a", 10, 19))
    pic = medical_picture(v, scenario())
    air = 2 * KM_BC / 250 * 60
    assert _at(pic, "c", 15).role2_minutes == pytest.approx(air, abs=0.01)  # 106.8 min
    assert _at(pic, "c", 5).role2_minutes == pytest.approx(KM_BC, abs=0.01)
    days = sorted((u.start_day, u.end_day) for u in pic.uncovered if u.hub == "c" and u.constrained)
    # Role 1 at c is the Role 2 at b: covered by air on days 10-19 only when <= 60 min -> never
    assert days == [(0, 9), (10, 19), (20, 29)]


def test_facility_arrival_day_counts() -> None:
    v = view(ul("i1", "inf", "a", 0, 29), ul("m2", "r2", "a", 10, 29))
    pic = medical_picture(v, scenario())
    assert _at(pic, "a", 9).role2_minutes is None and _at(pic, "a", 10).role2_minutes == 0.0
    assert [(u.start_day, u.end_day) for u in pic.uncovered] == [(0, 9)]
    assert "no Role 2 reachable" in pic.uncovered[0].reason


def test_no_road_speed_means_no_road_time() -> None:
    sc = scenario(sustainment=sustainment(speeds=()))
    pic = medical_picture(view(ul("i1", "inf", "a", 0, 9), ul("m2", "r2", "b", 0, 9)), sc)
    assert _at(pic, "a", 0).role2_minutes is None


def test_predicate_for_the_planner() -> None:
    assert covered(60, 120) and not covered(61, 10) and not covered(None, 1)
    assert medical_feasible(0, None, None)  # nobody constrained there
    assert not medical_feasible(1, 10, 121) and medical_feasible(2, 0, 0)


def test_medevac_pledge_without_base_is_a_named_error() -> None:
    sc = scenario(sustainment=sustainment(medevac=(MedevacPledge(pledge="p-heli"),)))
    with pytest.raises(InputError) as exc:
        medical_picture(view(ul("h1", "heli", "a", 0, 9)), sc)
    (p,) = exc.value.problems
    assert "MEDEVAC pledge 'p-heli' (unit line h1) has no base" in p.message and p.field == "sustainment.medevac"


def test_hub_without_coordinates_is_a_named_error() -> None:
    with pytest.raises(InputError) as exc:
        medical_picture(view(ul("i1", "inf", "nowhere", 0, 9)), scenario())
    assert "hub 'nowhere' of unit line i1 has no coordinates" in exc.value.problems[0].message


def test_json_section_shape() -> None:
    pic = medical_picture(view(ul("i1", "inf", "a", 0, 9)), scenario())
    j = pic.to_json()
    assert set(j) >= {"share_within_1h", "share_within_2h", "ranges", "uncovered"}
    assert set(j["ranges"][0]) >= {"hub", "start_day", "end_day", "role1_minutes", "role2_minutes", "role3_minutes"}
    assert set(j["uncovered"][0]) >= {"hub", "start_day", "end_day", "reason"}


def test_air_times_are_flagged_in_the_report() -> None:
    from coalition.sustain.service import build_report

    sc = scenario()
    with_air = build_report(sc, view(ul("t1", "trg", "c", 0, 9), ul("h1", "heli", "a", 0, 9)))
    without = build_report(sc, view(ul("t1", "trg", "c", 0, 9)))
    flag = "medical: MEDEVAC lift not rationed (one helicopter present serves every hub in reach)"
    assert flag in with_air.flags() and flag not in without.flags()

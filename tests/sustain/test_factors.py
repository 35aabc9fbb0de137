"""The doctrinal factor table: ATP 4-90 Table C-1 and ATP 5-0.2-1 Table G-27 reproduced exactly,
and a factor file that is wrong is refused with a named problem."""

from __future__ import annotations

import pytest

from coalition.errors import InputError
from coalition.scenario.schemas import Evidence, SupplyClass as C
from coalition.sustain.factors import load_factors, parse_factors

# ATP 4-90 (2020) Appendix C, Table C-1: lb per person per day (shared reference §1).
TABLE_C1 = {
    (C.I, "3mre"): 5.50,
    (C.I, "1ugr_2mre"): 7.41,
    (C.I, "2ugr_1mre"): 9.39,
    (C.II, None): 1.6,
    (C.III_P, None): 1.2,
    (C.IV, None): 3.962,
    (C.VI, None): 2.06,
}
# ATP 5-0.2-1 (2020) Table G-27: US gallons per person per day.
TABLE_G27 = {"temperate": 6.1, "tropical": 7.7, "arid": 7.9, "arctic": 6.6}
G27_TEMPERATE_COMPONENTS = {"drinking": 1.5, "hygiene": 1.7, "field_feeding": 2.8, "heat_treatment": 0.1}


def test_atp_4_90_table_c1_exactly() -> None:
    t = load_factors()
    for (cls, cycle), lb in TABLE_C1.items():
        f = t.find(cls, climate="temperate", ration_cycle=cycle)
        assert f is not None, (cls, cycle)
        assert f.unit == "lb" and f.value == lb, (cls, cycle, f.value)
        assert f.table == "ATP 4-90 Table C-1" and f.evidence is Evidence.REPORTED
    iv = t.find(C.IV)
    assert iv is not None and dict(iv.components) == {"barrier": 1.638, "construction": 2.324}
    # the ration cycles are the only Class I rows: nothing else sneaks in
    assert sorted(f.ration_cycle for f in t.factors if f.supply_class is C.I) == sorted(
        c for (k, c) in TABLE_C1 if k is C.I)


def test_atp_5_0_2_1_table_g27_exactly() -> None:
    t = load_factors()
    for climate, gal in TABLE_G27.items():
        f = t.find(C.WATER, climate=climate)
        assert f is not None and f.unit == "gal" and f.value == gal, climate
        assert f.table == "ATP 5-0.2-1 Table G-27"
    temperate = t.find(C.WATER, climate="temperate")
    assert temperate is not None and dict(temperate.components) == G27_TEMPERATE_COMPONENTS
    # 6.1 gal is the reference's "about 23.1 L"
    ref = t.doctrinal(C.WATER, climate="temperate", ration_cycle="2ugr_1mre")
    assert ref.value == pytest.approx(23.09, abs=0.01)


def test_conversions_are_the_exact_definitions() -> None:
    t = load_factors()
    assert t.conversions == {"lb_to_kg": 0.45359237, "gal_to_l": 3.785411784}
    ref = t.doctrinal(C.I, climate="temperate", ration_cycle="2ugr_1mre")
    assert ref.value == 9.39 * 0.45359237
    assert "unverified" in ref.flags  # transcribed, not re-checked against the primary text


def test_class_vi_outside_temperate_is_substituted_and_flagged() -> None:
    ref = load_factors().doctrinal(C.VI, climate="arid", ration_cycle="3mre")
    assert ref.value == 2.06 * 0.45359237
    assert "substituted" in ref.flags and ref.evidence is Evidence.ILLUSTRATIVE


def _one(row: str) -> str:
    return ("conversions: {lb_to_kg: 0.45359237, gal_to_l: 3.785411784}\nfactors:\n"
            f"  - {row}\n")


def test_negative_factor_is_a_named_error() -> None:
    with pytest.raises(InputError) as exc:
        parse_factors(_one("{class: II, value: -1.6, unit: lb, table: T, evidence: R}"), "f.yaml")
    (p,) = exc.value.problems
    assert (p.file, p.row, p.field) == ("f.yaml", 1, "value") and "negative factor" in p.message


def test_unknown_class_is_a_named_error_with_valid_values() -> None:
    with pytest.raises(InputError) as exc:
        parse_factors(_one("{class: VII, value: 1.0, unit: lb, table: T, evidence: R}"), "f.yaml")
    (p,) = exc.value.problems
    assert p.field == "class" and "unknown supply class 'VII'" in p.message
    assert p.hint is not None and "III(B)" in p.hint


def test_components_must_add_up() -> None:
    with pytest.raises(InputError) as exc:
        parse_factors(_one("{class: water, climate: temperate, value: 6.2, unit: gal, table: T, "
                           "components: {drinking: 1.5, hygiene: 1.7, field_feeding: 2.8, heat_treatment: 0.1}}"))
    assert "add up to 6.1" in exc.value.problems[0].message


def test_every_problem_at_once_and_duplicates() -> None:
    text = ("conversions: {lb_to_kg: 0.45359237, gal_to_l: 3.785411784}\nfactors:\n"
            "  - {class: II, value: 1.6, unit: lb, table: T}\n"
            "  - {class: II, value: 1.6, unit: lb, table: T}\n"
            "  - {class: IV, value: 1.0, unit: stone, table: T}\n")
    with pytest.raises(InputError) as exc:
        parse_factors(text)
    rows = sorted((p.row, p.field) for p in exc.value.problems)
    assert rows == [(2, "class"), (3, "unit")]

"""coalition.api.routers.common: If-Match parsing, record filters, the per-state cache."""

from __future__ import annotations

from enum import Enum
from types import SimpleNamespace

import pytest

from coalition.api.routers.common import StateCache, apply_filters, dump, etag, matches, parse_if_match
from coalition.scenario.store import RevisionConflict


@pytest.mark.parametrize(
    ("given", "want"), [(None, None), ("", None), ("  ", None), ('"3"', 3), ('W/"3"', 3), ("3", 3), (' "12" ', 12)]
)
def test_if_match_names_a_revision_in_any_usual_form(given: str | None, want: int | None) -> None:
    assert parse_if_match(given, 5) == want


@pytest.mark.parametrize("given", ['"three"', '"-1"', "*", 'W/"1.5"'])
def test_an_if_match_that_is_not_an_etag_is_a_conflict_naming_the_current_one(given: str) -> None:
    with pytest.raises(RevisionConflict) as err:
        parse_if_match(given, 7)
    assert '"7"' in str(err.value) and etag(7) == '"7"'


class Kind(Enum):
    LAND = "land"
    AIR = "air"


def rec(**kw: object) -> SimpleNamespace:
    return SimpleNamespace(**kw)


def test_filters_compare_enum_values_text_and_list_membership() -> None:
    a = rec(nation="GBR", domain=Kind.LAND, units=3, groups=("NATO", Kind.AIR))
    assert matches(a, {"nation": "GBR", "domain": "land", "units": "3"})
    assert matches(a, {"nation": None})  # an absent filter is no filter
    assert matches(a, {"groups": "NATO"}) and matches(a, {"groups": "air"})
    assert not matches(a, {"groups": "EU"}) and not matches(a, {"domain": "air"})
    assert not matches(a, {"missing": "x"})  # a record without the field does not match a value
    b = rec(nation="FRA", domain=Kind.AIR, units=1, groups=())
    assert apply_filters([a, b], {"nation": "FRA"}) == [b]
    assert apply_filters((x for x in [a, b]), None) == [a, b] and apply_filters([a], {}) == [a]


def test_dump_serialises_models_and_passes_anything_else() -> None:
    from coalition.auth.rules import Marking

    assert dump(Marking(origin="GBR", releasable_to=("HQ",))) == {"origin": "GBR", "releasable_to": ["HQ"]}
    assert dump({"a": 1}) == {"a": 1}


def test_the_cache_answers_only_for_the_same_state_object_and_forgets_the_oldest() -> None:
    cache = StateCache(size=2)
    s1, s2, s3 = object(), object(), object()
    cache.put(s1, ("q",), 1)
    cache.put(s2, ("q",), 2)
    assert cache.get(s1, ("q",)) == 1 and cache.get(s1, ("other",)) is None
    cache.put(s3, ("q",), 3)  # s2 is now the least recently used: evicted
    assert cache.get(s2, ("q",)) is None and cache.get(s1, ("q",)) == 1 and cache.get(s3, ("q",)) == 3
    impostor = object()  # a different state can never read another's answer
    assert cache.get(impostor, ("q",)) is None

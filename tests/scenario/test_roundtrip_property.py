"""Property: any valid scenario survives every file form unchanged (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from coalition.errors import InputError
from coalition.scenario import schemas as s
from coalition.scenario.service import (
    export_xlsx,
    load_scenario,
    read_xlsx,
    save_scenario,
    save_scenario_file,
)

from .conftest import tiny_scenario

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
# Known awkward characters, mixed in so every run meets them.
awkward = st.sampled_from(["a\rb", "a\r\nb", "_x000D_", "x\x85y", "x\u2028y", "=1+1", "null",
                           "on", "yes", "'q'", '"q"', "a,b", "# not a comment", "\x0b"])
text = st.one_of(text, awkward, st.builds(lambda a, b: a + b, awkward, text))
item = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=";"),
               min_size=1, max_size=20).filter(lambda t: t.strip() != "")
number = st.floats(min_value=0, max_value=1_000_000, allow_nan=False, allow_infinity=False)


@st.composite
def scenarios(draw: st.DrawFn) -> s.Scenario:
    base = tiny_scenario()
    nation = base.nations[0].model_copy(update={
        "name": draw(text.filter(lambda t: t.strip() != "")).strip()[:100] or "x",
    })
    nation = s.Nation.model_validate({**nation.model_dump(), "position": draw(text),
                                      "groups": draw(st.lists(item, max_size=3))})
    cap = s.Capability.model_validate({**base.capabilities[0].model_dump(),
                                       "roles": draw(st.lists(item, max_size=3)),
                                       "tonnage": draw(number), "source": draw(text)})
    hub = s.Hub.model_validate({**base.hubs[0].model_dump(),
                                "lat": draw(st.floats(-90, 90)), "lon": draw(st.floats(-180, 180))})
    corridor = s.Corridor.model_validate({**base.corridors[0].model_dump(),
                                          "tonnage_per_day": draw(number)})
    return base.model_copy(update={
        "description": draw(text).strip(),
        "nations": (nation, *base.nations[1:]),
        "capabilities": (cap, *base.capabilities[1:]),
        "hubs": (hub, *base.hubs[1:]),
        "corridors": (corridor,),
    })


def _diff(a: s.Scenario, b: s.Scenario) -> str:
    da, db = a.model_dump(), b.model_dump()
    return "; ".join(f"{k}: {da[k]!r} != {db[k]!r}" for k in da if da[k] != db[k])


# No shrinking phase: a failure prints the generated scenario as is, and the suite stays fast.
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(scenarios())
def test_every_form_round_trips(sc: s.Scenario) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        back = load_scenario(save_scenario(sc, tmp_path / "folder"))
        assert back == sc, _diff(back, sc)
        assert load_scenario(save_scenario_file(sc, tmp_path / "one.yaml")) == sc
        assert load_scenario(save_scenario_file(sc, tmp_path / "one.json")) == sc
        book = tmp_path / "book.xlsx"
        try:
            export_xlsx(sc, book)
        except InputError as exc:
            assert exc.problems and all("control character" in p.message for p in exc.problems)
            assert not book.exists()
            return
        back = read_xlsx(book)
        assert back == sc, _diff(back, sc)

"""coalition.analysis.releasability: what a partial reader sees of each analysis kind."""

from __future__ import annotations

from typing import Any

import pytest

from coalition.analysis.releasability import HEADER, band, summary_for
from coalition.planner.releasability import BASIS, ReaderView

GBR_ONLY = ReaderView(
    visible=frozenset({"p-gbr-1", "p-gbr-2"}),
    hidden=frozenset({"p-fra-1", "p-deu-1"}),
    nations=frozenset({"GBR"}),
    own_nation="GBR",
)
EVERYTHING = ReaderView(
    visible=frozenset({"p-gbr-1", "p-fra-1"}), hidden=frozenset(), nations=frozenset({"GBR", "FRA"}), own_nation="GBR"
)


@pytest.mark.parametrize(
    ("p", "want"),
    [
        (None, None),
        (1.0, "always"),
        (1.5, "always"),
        (0.0, "never"),
        (-0.1, "never"),
        (1e-9, "sometimes"),
        (0.999999, "sometimes"),
    ],
)
def test_band_never_gives_the_probability(p: float | None, want: str | None) -> None:
    assert band(p) == want


def test_a_complete_reader_gets_the_summary_as_stored() -> None:
    summary = {"kind": "montecarlo", "lines": [{"line": "L1", "by_day": {"d": {"p": 0.37}}}], "coverage": 0.8}
    out = summary_for(summary, EVERYTHING)
    assert out == {**summary, "redacted": False}
    assert "redacted" not in summary  # the stored summary is not changed


def montecarlo() -> dict[str, Any]:
    return {
        "kind": "montecarlo",
        "seed": 7,
        "samples": 200,
        "scenario": "paris",
        "lines": [
            {
                "line": "L1",
                "need": 4,
                "by_day": {"2026-07-01": {"p": 0.37, "mean_fill": 2.9}, "2026-07-08": {"p": 1.0}},
            },
            {"line": "L2", "by_day": {"2026-07-01": {"p": 0.0}, "2026-07-08": "odd"}},
        ],
        "coverage": {"mean": 0.81},
        "convergence": [0.1, 0.05],
        "warnings": ["stored warning"],
    }


def test_montecarlo_keeps_only_bands_for_a_partial_reader() -> None:
    out = summary_for(montecarlo(), GBR_ONLY)
    assert out["lines"] == [
        {"line": "L1", "by_day": {"2026-07-01": {"band": "sometimes"}, "2026-07-08": {"band": "always"}}},
        {"line": "L2", "by_day": {"2026-07-01": {"band": "never"}, "2026-07-08": {"band": None}}},
    ]
    text = repr(out)
    assert "0.37" not in text and "2.9" not in text and "need" not in text and "0.81" not in text
    assert out["withheld"] == ["convergence", "coverage"]  # sorted; rebuilt sections not listed
    assert out["redacted"] is True and out["basis"] == BASIS
    assert out["warnings"] != ["stored warning"] and len(out["warnings"]) == 1
    assert (out["seed"], out["samples"], out["scenario"]) == (7, 200, "paris")


def test_withdrawal_keeps_rows_of_nations_seen_in_full_sorted_by_nation() -> None:
    summary = {
        "kind": "withdrawal",
        "nations": ["FRA", "GBR", "DEU"],
        "n_1": [
            {"nations": ["GBR"], "lines_broken": ["L2"], "lines_broken_days": [3], "coverage_drop": 0.2},
            {"nations": ["FRA"], "lines_broken": ["L1"], "lines_broken_days": [1], "coverage_drop": 0.5},
            {"nations": [], "lines_broken": ["L9"]},
        ],
        "n_2": [{"nations": ["GBR", "FRA"], "lines_broken": ["L1", "L2"]}],
        "shapley": {"FRA": 0.3},
        "worst_k": [],
    }
    out = summary_for(summary, GBR_ONLY)
    assert out["nations"] == ["GBR"]
    assert out["n_1"] == [{"nations": ["GBR"], "lines_broken": ["L2"], "lines_broken_days": [3]}]
    assert out["n_2"] == []  # a pair with a nation the reader does not see in full
    assert out["withheld"] == ["shapley", "worst_k"]


def test_withdrawal_rows_are_ordered_by_nation_not_by_damage() -> None:
    view = ReaderView(
        visible=frozenset({"a"}), hidden=frozenset({"x"}), nations=frozenset({"GBR", "FRA"}), own_nation="GBR"
    )
    summary = {
        "kind": "withdrawal",
        "n_1": [{"nations": ["GBR"], "lines_broken": ["L1", "L2"]}, {"nations": ["FRA"], "lines_broken": []}],
    }
    assert [r["nations"] for r in summary_for(summary, view)["n_1"]] == [["FRA"], ["GBR"]]


def test_hedge_keeps_the_readers_own_pledges_only() -> None:
    summary = {
        "kind": "hedge",
        "vss": 12.0,
        "evpi": 3.0,
        "first_wave_by_nation": [{"pledge": "p-gbr-1", "units": 2}, {"pledge": "p-fra-1", "units": 5}],
    }
    out = summary_for(summary, GBR_ONLY)
    assert out["first_wave_by_nation"] == [{"pledge": "p-gbr-1", "units": 2}]
    assert out["withheld"] == ["evpi", "vss"]


def test_an_unknown_kind_or_section_is_withheld_not_passed_through() -> None:
    """An allow-list: a section added later (or a kind this module does not know) is cut."""
    out = summary_for({"kind": "newfangled", "option": "small", "secret_counts": [3, 4]}, GBR_ONLY)
    assert "secret_counts" not in out and out["withheld"] == ["secret_counts"]
    assert out["option"] == "small"
    discover = summary_for({"kind": "discover", "boxes": [{"density": 0.9}], "threshold": 0.5}, GBR_ONLY)
    assert "boxes" not in discover and discover["withheld"] == ["boxes"] and discover["threshold"] == 0.5


def test_every_header_field_is_about_the_question() -> None:
    """The header is kept for everyone; no field of an answer may slip into it."""
    answers = {"lines", "coverage", "n_1", "n_2", "first_wave_by_nation", "boxes", "shapley", "vss", "evpi"}
    assert not HEADER & answers

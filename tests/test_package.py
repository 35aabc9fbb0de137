import coalition
from coalition.errors import Problem, closest


def test_public_api_is_curated() -> None:
    assert coalition.__all__ == ["__version__"]


def test_problem_names_its_place() -> None:
    p = Problem("unknown nation 'GBX'", file="pledges.csv", row=3, field="nation", hint="did you mean 'GBR'?")
    assert str(p) == "pledges.csv, row 3, field 'nation': unknown nation 'GBX' (did you mean 'GBR'?)"


def test_closest_suggests() -> None:
    assert closest("parliament.GBX", ["parliament.GBR", "ceasefire"]) == "parliament.GBR"
    assert closest("zzz", ["ceasefire"]) is None

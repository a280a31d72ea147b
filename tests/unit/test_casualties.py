import pytest

from bot.domain.casualties import Casualties, CasualtyInputError, parse_casualties, parse_count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("死亡1 受伤3 失踪0", Casualties(1, 3, 0)),
        ("死亡：1，受伤：3", Casualties(1, 3, None)),
        ("1/3/0", Casualties(1, 3, 0)),
        ("１/３/０", Casualties(1, 3, 0)),
        ("1、3、0", Casualties(1, 3, 0)),
        ("无", Casualties(0, 0, 0)),
        ("无伤亡", Casualties(0, 0, 0)),
        ("暂不清楚", Casualties(None, None, None)),
        ("伤2人", Casualties(None, 2, None)),
    ],
)
def test_forms(text: str, expected: Casualties) -> None:
    assert parse_casualties(text) == expected


@pytest.mark.parametrize("text", ["很多", "死亡1 火很大", "1/2", "", "-1/0/0", "死亡99999999"])
def test_refused(text: str) -> None:
    with pytest.raises(CasualtyInputError):
        parse_casualties(text)


def test_one_by_one_counts() -> None:
    assert parse_count("3") == 3
    assert parse_count("3人") == 3
    assert parse_count("暂不清楚") is None
    with pytest.raises(CasualtyInputError):
        parse_count("三")


def test_major_and_known() -> None:
    assert Casualties(1, 0, 0).major
    assert Casualties(0, 0, 2).major
    assert not Casualties(0, 5, 0).major
    assert not Casualties(None, 1, 0).known

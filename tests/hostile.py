"""Typed input that parses as a number or a date but is not one a person means (issue #23):
shared by the parser unit tests and the end-to-end fuzzing of every command and text step."""

from __future__ import annotations

from hypothesis import strategies as st

# What outsiders typed (issue #23), and their kin.
NASTY = [
    "²", "①", "⑳", "Ⅻ", "½", "𝟙𝟚", "١٢", "１２", "99999999999999999999", "#99999999999999999999", "-1", "+1", "0",
    "1e9", "1_000", "0x10", " 1 ", "9" * 5000, "0001-01-01", "9999-12-31", "0000-00-00", "2027-02-29", "2-29",
    "02-29 10:00", "2-29 下午", "0001-01-01 10:00", "9999-12-31 23:59", "9999年12月31日", "0001年1月1日 1:00",
    "99999999999d", "99999999999h", "999999d", "1.5h", "²d", "①天", "2026-0007", "2026-²", "9999-12",
    "0001-01", "2026-13", "13月", "24:00", "23:60", "²:00", "1²:00", "１２:００", "٠١-٠١ ٠٩:٠٠", "11-31",
    "9999-12-31..9999-12-31", "0001-01-01..0001-01-02", "99999999999999999999分钟前", "999小时", "一万天",
    "#²", "＃１２", "死亡²", "²/0/0", "1/2/99999999999999999999", "死亡99999999999999999999人",
]
# digits of every kind (², ①, Ⅻ, ١, １), dashes and spaces of every kind, and the words of a date
_NUMERIC = st.characters(categories=["Nd", "No", "Nl", "Pd", "Zs"]) | st.sampled_from("-/.:年月日号点时分天周 #")
typed = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.text(alphabet=_NUMERIC, max_size=24),
    st.from_regex(r"\A-?[0-9]{1,25}(\.[0-9]{1,3})?\s?(d|h|m|s|天|小时|分钟)?\Z"),
    st.builds(lambda y, m, d, h, mi: f"{y}-{m}-{d} {h}:{mi}", st.integers(0, 99999), st.integers(-1, 14),
              st.integers(-1, 33), st.integers(-1, 25), st.integers(-1, 61)),
)

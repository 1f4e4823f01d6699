"""Numbers for people and the SVG chart primitives, on fixed inputs (fast, no pipeline)."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree import ElementTree

from reporting import charts
from reporting import formatting as f


def test_numbers_are_formatted_for_people():
    assert f.count(1234567) == "1,234,567"
    assert f.count(Decimal("12.500")) == "12.5"
    assert f.count(None) == f.DASH
    assert f.percent(0.12345) == "12.3 %"
    assert f.percent(None) == f.DASH
    assert f.points(0.0123) == "+1.23 pp"
    assert f.money(Decimal("467401.6"), "RUB") == "₽467,402"
    assert f.money(-1500, "EUR") == "−€1,500"
    assert f.money(1500.5, "CHF", cents=True) == "1,500.50 CHF"


def test_p_value_in_words():
    assert f.p_value_in_words(0.43, 0.01) == "no significant difference (p = 0.43)"
    assert f.p_value_in_words(0.0004, 0.02) == "significantly higher than control (p < 0.001)"
    assert f.p_value_in_words(0.012, -0.02) == "significantly lower than control (p = 0.012)"
    assert f.p_value_in_words(None, None).startswith("not tested")


def test_nice_ticks_cover_the_range_with_round_steps():
    assert charts.nice_ticks(0, 287) == [0, 100, 200, 300]
    assert charts.nice_ticks(-0.03, 0.03) == [-0.04, -0.02, 0.0, 0.02, 0.04]
    assert charts.nice_ticks(0, 0) == [0.0, 0.25, 0.5, 0.75, 1.0]


def _marks(svg: str) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(svg)  # well-formed XML
    return [el for el in root.iter() if "mark" in (el.get("class") or "").split()]


def test_charts_are_svg_with_one_mark_per_value_and_its_exact_value_on_hover():
    stacked = charts.stacked_bar([("Delivered", 90), ("Failed", 10), ("Queued", 0)], f.count, "x")
    assert len(_marks(stacked)) == 2  # a zero segment draws nothing
    assert "<title>Delivered: 90</title>" in stacked and "(90.0 %)" in stacked
    bars = charts.horizontal_bars([("https://a.example/x", 5, "50 %")], f.count, "links")
    assert len(_marks(bars)) == 1 and "a.example/x" in bars
    columns = charts.columns(["00", "01", "02"], [3, 0, 7], f.count, "hours")
    heights = [float(m.get("height")) for m in _marks(columns)]
    assert len(heights) == 3 and heights[1] == 0 and heights[2] > heights[0] > 0
    intervals = charts.intervals(
        [("treatment", 0.02, 0.01, 0.03), ("A", None, None, None)], f.points, "lift"
    )
    marks = _marks(intervals)
    assert [m.tag.split("}")[1] for m in marks] == ["path", "circle"]
    assert re.search(r"95 % interval \+1\.00 pp to \+3\.00 pp", intervals)

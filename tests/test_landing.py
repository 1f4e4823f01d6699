"""demo_data.landing: landing a generated zone one day at a time."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from demo_data.landing import land_day, landing_days


def tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def small_zone(tmp_path) -> Path:
    """A hand-made zone: two feeds, three days, a file outside a day folder, the manifest."""
    src = tmp_path / "src"
    files = {
        "sendgrid/2026-10-01/a.json": b"[1]",
        "sendgrid/2026-10-03/b.ndjson": b"{}\n",
        "sendgrid/2026-10-03/nested/c.json": b"[3]",
        "twilio/2026-10-02/d.csv": b"sid\n1\n",
        "twilio/loose.csv": b"sid\n2\n",  # not in a day folder
        "twilio/archive/e.csv": b"sid\n3\n",  # a sub-folder that is not a date
        "_generator_manifest.json": b"{}",
    }
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    (src / "orders" / "2026-10-04").mkdir(parents=True)  # an empty day folder still counts
    return src


def test_landing_days_are_the_sorted_day_folders(small_zone):
    assert landing_days(small_zone) == [dt.date(2026, 10, d) for d in (1, 2, 3, 4)]


def test_land_day_copies_exactly_that_days_folders(small_zone, tmp_path):
    target = tmp_path / "target"
    landed = land_day(small_zone, target, dt.date(2026, 10, 3))
    expected = ["sendgrid/2026-10-03/b.ndjson", "sendgrid/2026-10-03/nested/c.json"]
    assert [p.relative_to(target).as_posix() for p in landed] == expected
    assert sorted(tree(target)) == expected


def test_files_outside_day_folders_land_with_the_first_day(small_zone, tmp_path):
    target = tmp_path / "target"
    landed = land_day(small_zone, target, dt.date(2026, 10, 1))
    assert sorted(p.relative_to(target).as_posix() for p in landed) == [
        "sendgrid/2026-10-01/a.json",
        "twilio/archive/e.csv",
        "twilio/loose.csv",
    ]
    assert not land_day(small_zone, target, dt.date(2026, 10, 4))  # an empty day: nothing


def test_feed_selection_and_exclusion(small_zone, tmp_path):
    day = dt.date(2026, 10, 1)
    only = land_day(small_zone, tmp_path / "only", day, feeds=["sendgrid"])
    assert [p.name for p in only] == ["a.json"]
    excluded = land_day(small_zone, tmp_path / "excl", day, exclude_feeds=["sendgrid"])
    assert sorted(p.name for p in excluded) == ["e.csv", "loose.csv"]


def test_landing_twice_is_a_no_op_and_other_bytes_refuse(small_zone, tmp_path):
    target = tmp_path / "target"
    day = dt.date(2026, 10, 2)
    first = land_day(small_zone, target, day, feeds=["twilio"])
    assert land_day(small_zone, target, day, feeds=["twilio"]) == first
    (target / "twilio" / "2026-10-02" / "d.csv").unlink()
    (target / "twilio" / "2026-10-02" / "d.csv").write_bytes(b"other")
    with pytest.raises(FileExistsError):
        land_day(small_zone, target, day, feeds=["twilio"])


def test_every_day_of_a_generated_zone_rebuilds_it_byte_for_byte(landing_zone, tmp_path):
    target = tmp_path / "target"
    days = landing_days(landing_zone)
    assert len(days) == 30 and days[0] == dt.date(2026, 10, 1)
    landed = [p for day in days for p in land_day(landing_zone, target, day)]
    expected = tree(landing_zone)
    expected.pop("_generator_manifest.json")
    assert tree(target) == expected
    assert len(landed) == len(expected)  # each file landed once, on its day

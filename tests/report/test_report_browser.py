"""The campaign reports of a real publication, opened in headless Chromium (Debian's `chromium`,
driven by Playwright; no browser is downloaded).

Every page: drawn charts (each SVG chart has marks with a visible size), no console message or
page error, no request to anything but the page file itself, under 2 MB; the headline figures
on the page equal the published marts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

MAX_PAGE_BYTES = 2 * 1024 * 1024
CHROMIUM = shutil.which("chromium")


def _published_reports(data_dir: Path) -> tuple[Path, Path]:
    with duckdb.connect(str(data_dir / "reports.duckdb"), read_only=True) as conn:
        (version,) = conn.execute(
            "select version from publications where status = 'published' "
            "order by recorded_at desc limit 1"
        ).fetchone()
    folder = data_dir / "exports" / version / "reports"
    return folder, folder / "index.html"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def rendered(small_run, browser):
    """Every page of the publication's reports, opened once: its requests, console, charts."""
    folder, index = _published_reports(small_run.data_dir)
    pages = {}
    for path in [index, *sorted(folder.glob("campaign-*.html"))]:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        seen = {"requests": [], "console": [], "errors": []}
        page.on("request", lambda r, seen=seen: seen["requests"].append(r.url))
        page.on("console", lambda m, seen=seen: seen["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e, seen=seen: seen["errors"].append(str(e)))
        page.goto(path.as_uri(), wait_until="load")
        seen["charts"] = page.evaluate(
            """() => [...document.querySelectorAll('svg.chart')].map(svg => ({
                label: svg.getAttribute('aria-label'),
                drawn: [...svg.querySelectorAll('.mark')].filter(m => {
                    const box = m.getBBox(); return box.width > 0 && box.height > 0; }).length,
            }))"""
        )
        seen["figures"] = dict(
            page.evaluate(
                """() => [...document.querySelectorAll('#headline [data-figure]')]
                    .map(f => [f.dataset.figure, f.querySelector('.value').textContent])"""
            )
        )
        seen["links"] = page.evaluate("() => [...document.links].map(a => a.href)")
        page.close()
        pages[path] = seen
    return folder, pages


def test_every_campaign_has_a_page_and_the_index_links_them(rendered, small_run):
    folder, pages = rendered
    with duckdb.connect(str(small_run.data_dir / "reports.duckdb"), read_only=True) as conn:
        campaigns = {
            c for (c,) in conn.execute("select campaign_id from mart_campaigns").fetchall()
        }
    files = {p.stem.removeprefix("campaign-") for p in pages if p.name != "index.html"}
    assert files == campaigns and campaigns
    links = pages[folder / "index.html"]["links"]
    assert {Path(link).name for link in links} == {f"campaign-{c}.html" for c in campaigns}


def test_pages_make_no_request_and_log_nothing(rendered):
    _, pages = rendered
    for path, seen in pages.items():
        assert seen["requests"] == [path.as_uri()], path.name
        assert seen["console"] == [], path.name
        assert seen["errors"] == [], path.name
        assert path.stat().st_size < MAX_PAGE_BYTES, path.name


def test_every_chart_is_drawn(rendered):
    _, pages = rendered
    campaign_pages = {p: s for p, s in pages.items() if p.name != "index.html"}
    all_charts = [chart for seen in campaign_pages.values() for chart in seen["charts"]]
    for path, seen in campaign_pages.items():
        for chart in seen["charts"]:
            assert chart["drawn"] > 0, (path.name, chart["label"])
    labels = {chart["label"] for chart in all_charts}
    # The demo has e-mail, SMS and control groups: every kind of chart is there.
    assert {
        "Mailing volume breakdown",
        "Efficiency funnel",
        "Orders per day",
        "Revenue per day",
        "Opens by hour",
        "Top links",
        "Lift versus control",
        "SMS delivery",
    } <= labels


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-−]", "", text).replace("−", "-"))


def test_headline_figures_equal_the_marts(rendered, small_run):
    _, pages = rendered
    with duckdb.connect(str(small_run.data_dir / "reports.duckdb"), read_only=True) as conn:
        cursor = conn.execute("select * from mart_campaign_summary where channel = 'all'")
        names = [c[0] for c in cursor.description]
        summary = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    checked = 0
    for path, seen in pages.items():
        if path.name == "index.html":
            continue
        campaign, figures = path.stem.removeprefix("campaign-"), seen["figures"]
        expected = summary[campaign]
        for key in ("mailings", "sent", "delivered", "unique_clickers", "direct_purchases"):
            assert _number(figures[key]) == expected[key], (campaign, key)
        for key in ("direct_revenue", "assisted_revenue"):
            assert _number(figures[key]) == round(float(expected[key])), (campaign, key)
        rate = expected["click_to_delivered_rate"]
        if rate is not None:
            assert _number(figures["click_to_delivered_rate"]) == round(rate * 100, 1)
        checked += 1
    assert checked == len(summary)


def test_report_command_reads_only_the_published_file(small_run, tmp_path):
    """`report --campaign` works with nothing but reports.duckdb (no working warehouse)."""
    shutil.copy(small_run.data_dir / "reports.duckdb", tmp_path / "reports.duckdb")
    with duckdb.connect(str(tmp_path / "reports.duckdb"), read_only=True) as conn:
        (campaign,) = conn.execute("select min(campaign_id) from mart_campaigns").fetchone()
    out = tmp_path / "one.html"
    env = {**small_run.env, "CW_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "report",
            "--campaign",
            campaign,
            "--data",
            str(tmp_path),
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert 'data-figure="sent"' in out.read_text() and not (tmp_path / "warehouse.duckdb").exists()

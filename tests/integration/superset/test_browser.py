"""Both dashboards in Debian's headless Chromium: sign in, open each, wait for every chart,
save a screenshot (test-artifacts/superset/), and fail on any chart that errs or is empty
or on an error in the browser console. The live dashboard, left open, counts the tickets
sold after it was opened.

The screenshots in docs/images/ (shown in the README) are copies of these artifacts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from boxoffice.bi.client import SupersetClient
from contracts.settings import REPO_ROOT, Settings
from tests.integration.superset.browser import chromium, console_errors, log_in, screenshot
from tests.integration.superset.festival_data import Festival, write_facts
from tests.support.waiting import wait_until

ARTIFACTS = REPO_ROOT / "test-artifacts" / "superset"
RENDER_DEADLINE_SECONDS = 120.0
ERROR_SELECTOR = ".alert-danger, .ant-alert-error, [data-test='error-tooltip']"
ERROR_WORDS = re.compile(r"Unexpected error|Error:|DB::Exception|No results were returned")
DASHBOARDS = ("acl-all-stars", "live-box-office")
WIDTH = 1600
REFRESH_SECONDS = 10.0
"""The live dashboard's refresh_frequency."""
SOLD_WHILE_WATCHED = 9
HEIGHT_WHILE_RENDERING = 2000


def chart_state(chart: WebElement) -> str:
    """'error: ...', 'data' or 'waiting' for one chart of a dashboard."""
    text = chart.text
    if chart.find_elements(By.CSS_SELECTOR, ERROR_SELECTOR) or ERROR_WORDS.search(text):
        return "error: " + " ".join(text.split())[:300]
    viz = chart.get_attribute("data-test-viz-type") or ""
    title = chart.get_attribute("data-test-chart-name") or ""
    if viz.startswith("echarts") and chart.find_elements(By.CSS_SELECTOR, "canvas"):
        return "data"
    if viz == "table" and chart.find_elements(By.CSS_SELECTOR, "tbody tr td"):
        return "data"
    figure = text.replace(title, "", 1)
    if viz.startswith(("big_number", "handlebars")) and re.search(r"\d", figure):
        return "data"
    return "waiting"


def chart_states(driver: WebDriver) -> dict[str, str]:
    return {str(chart.get_attribute("data-test-chart-name")): chart_state(chart)
            for chart in driver.find_elements(By.CSS_SELECTOR, "[data-test-chart-id]")}


def wait_for_charts(driver: WebDriver, expected: int) -> dict[str, str]:
    def settled() -> dict[str, str] | None:
        states = chart_states(driver)
        errors = {n: s for n, s in states.items() if s.startswith("error")}
        assert not errors, f"charts show errors: {errors}"
        done = len(states) == expected and all(s == "data" for s in states.values())
        return states if done else None

    try:
        result: dict[str, str] = wait_until(settled, deadline_seconds=RENDER_DEADLINE_SECONDS,
                                      what=f"{expected} charts to render with data")
    except AssertionError:
        screenshot(driver, ARTIFACTS / "failed.png")
        raise AssertionError(f"charts did not all render: {chart_states(driver)}") from None
    return result


def full_page_screenshot(driver: WebDriver, path: Path) -> Path:
    """Shrink the window to the dashboard's height, hide toasts, and capture it."""
    driver.execute_script(
        "document.querySelectorAll('[data-test=\"toast-container\"], .toast-container')"
        ".forEach(e => e.remove());")
    height = int(driver.execute_script(
        "return Math.max(...Array.from(document.querySelectorAll("
        "'[data-test-chart-id], .dashboard-component-chart-holder'),"
        " e => e.getBoundingClientRect().bottom + window.scrollY))"))
    driver.set_window_size(WIDTH, min(max(height + 100, 900), HEIGHT_WHILE_RENDERING))
    return screenshot(driver, path)


@pytest.mark.parametrize("slug", DASHBOARDS)
def test_dashboard_renders_every_chart_with_data(festival: Festival, superset: Settings,
                                                 admin: SupersetClient, slug: str) -> None:
    expected = len(admin.request("GET", f"/api/v1/dashboard/{slug}/charts")["result"])
    with chromium() as driver:
        driver.set_window_size(WIDTH, HEIGHT_WHILE_RENDERING)
        log_in(driver, superset)
        driver.get(f"{superset.superset_url}/superset/dashboard/{slug}/")
        states = wait_for_charts(driver, expected)
        errors = console_errors(driver)
        path = full_page_screenshot(driver, ARTIFACTS / f"{slug}.png")
        # a resize re-renders the charts: they must still all be there with data
        wait_for_charts(driver, expected)
        screenshot(driver, path)
    assert len(states) == expected > 0
    assert path.stat().st_size > 10_000
    assert errors == [], f"the browser console shows errors: {errors}"


def big_number(driver: WebDriver, name: str) -> int | None:
    """The figure a big-number chart shows now, or None while it renders: the line that
    is a number alone (the as-of line above it holds a date)."""
    for chart in driver.find_elements(By.CSS_SELECTOR, f"[data-test-chart-name='{name}']"):
        for line in chart.text.splitlines():
            figure = re.fullmatch(r"\$?(\d[\d,]*)", line.strip())
            if figure:
                return int(figure.group(1).replace(",", ""))
    return None


def tiles_without_as_of(driver: WebDriver) -> list[str]:
    """Tiles drawn as HTML (figures, tables) whose text lacks the as-of line. ECharts draw
    theirs in the canvas legend: the data API test reads those."""
    return [str(chart.get_attribute("data-test-chart-name"))
            for chart in driver.find_elements(By.CSS_SELECTOR, "[data-test-chart-id]")
            if not (chart.get_attribute("data-test-viz-type") or "").startswith("echarts")
            and "as of source commit" not in chart.text]


def test_the_live_dashboard_in_the_browser_counts_new_sales_by_itself(
        festival: Festival, superset: Settings, admin: SupersetClient) -> None:
    """Opened once and left alone, the page shows tickets sold after it was opened: its
    own 10 s refresh re-reads ClickHouse (what an operator watching an on-sale sees)."""
    with chromium() as driver:
        driver.set_window_size(WIDTH, HEIGHT_WHILE_RENDERING)
        log_in(driver, superset)
        driver.get(f"{superset.superset_url}/superset/dashboard/live-box-office/")
        before = wait_until(lambda: big_number(driver, "Tickets today"),
                            deadline_seconds=RENDER_DEADLINE_SECONDS,
                            what="the Tickets today figure")
        wait_until(lambda: not tiles_without_as_of(driver),
                   deadline_seconds=RENDER_DEADLINE_SECONDS,
                   what="every figure and table tile to show its as-of line",
                   explain=lambda: f"without it: {tiles_without_as_of(driver)}")
        write_facts(superset, festival.live_sales(SOLD_WHILE_WATCHED, within_minutes=0))
        wait_until(lambda: big_number(driver, "Tickets today") == before + SOLD_WHILE_WATCHED,
                   deadline_seconds=3 * REFRESH_SECONDS, poll=1.0,
                   what=f"the open page to count {SOLD_WHILE_WATCHED} more tickets")
        assert console_errors(driver) == []

"""Debian's headless Chromium driven by Selenium, signed in to Superset.

The browser runs with a fresh profile and with every background service Chrome would
otherwise call home for switched off, so a test run touches nothing but Superset.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from contracts.settings import Settings
from tests.support.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1600, 1300)
CHROME_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a throw-away profile; always quits."""
    profile = tempfile.mkdtemp(prefix="boxoffice-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


RESUBMIT_AFTER_SECONDS = 15.0
"""How long a submitted login form is given before it is submitted again (a cold server
may drop the first submission with the re-render)."""


def log_in(driver: WebDriver, settings: Settings) -> None:
    """Sign in through Superset's login form as the admin user.

    Superset 6 renders the form in React: its inputs have ids but no name attributes
    (4.x's server-side form had both), and on a cold server the page may re-render
    after the fields appear, dropping what was typed. So each poll, while the browser
    is still on /login, fills whichever field does not hold its value and submits only
    when both do, and not again while a submission may still be answered: a second
    login replaces the session, and the welcome page's requests made with the first
    one then fail with 401 in the console (seen once in a run)."""
    user = settings.superset_admin_user
    password = settings.secret("superset_admin_password")
    driver.get(f"{settings.superset_url}/login/")
    submitted_at = -RESUBMIT_AFTER_SECONDS

    def signed_in() -> bool:
        nonlocal submitted_at
        if "/login" not in driver.current_url:
            return True
        filled = 0
        for field_id, value in (("username", user), ("password", password)):
            fields = driver.find_elements(By.ID, field_id)
            if not fields:
                return False
            if fields[0].get_attribute("value") != value:
                fields[0].clear()
                fields[0].send_keys(value)
            filled += fields[0].get_attribute("value") == value
        if filled == 2 and time.monotonic() - submitted_at >= RESUBMIT_AFTER_SECONDS:
            driver.find_element(By.CSS_SELECTOR, "[type=submit]").click()
            submitted_at = time.monotonic()
        return False

    wait_until(signed_in, deadline_seconds=120, poll=2.0, what="the login to complete",
               explain=lambda: f"at {driver.current_url}: "
               + " ".join(driver.find_element(By.TAG_NAME, "body").text.split())[:300])


def screenshot(driver: WebDriver, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


BLOCKED_TELEMETRY = re.compile(r"gateway\.scarf\.sh/pixel/.*violates the following Content "
                               r"Security Policy")
"""Superset (4.1 and 6.1 alike) renders its telemetry pixel whatever the configuration
says; our Content Security Policy blocks it (nothing leaves the machine), and Chromium
reports the block."""


def console_errors(driver: WebDriver) -> list[str]:
    """The page's console errors since the last call (Chromium hands each entry once),
    but for the telemetry pixel our policy blocks on purpose."""
    return [message for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"
            and not BLOCKED_TELEMETRY.search(message := str(entry.get("message", "")))]

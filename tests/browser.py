"""Selenium harness: Debian's headless Chromium with console-log capture and screenshots.

Never downloads anything: the driver path is always passed to Service (so Selenium Manager is skipped)
and SE_OFFLINE is set as a second guard. DNS is blackholed inside the browser (every host except
localhost resolves to nothing), so a page that reaches for a CDN or map tiles fails loudly instead of
silently working on a developer laptop with internet access.

    with open_browser() as b:
        errors = b.load(page.as_uri(), wait_plots=3)
        assert errors == []
        b.screenshot("institution")

As pytest fixtures: `from tests.browser import chrome  # noqa: F401` gives a module-scoped Browser
(a missing Chromium/chromedriver FAILS the tests, naming `make system-deps`: a skipped browser suite would
pass CI without testing anything; IKMS_ALLOW_NO_BROWSER=1 turns it into a skip on a developer's machine).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("IKMS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("IKMS_CHROMEDRIVER", "/usr/bin/chromedriver"))

# Console entries that are not page bugs; add a regex only with a reason. No file-access flags are
# set: fetch()/XHR from file:// must fail here exactly as in a user's Chromium.
IGNORED_CONSOLE = [
    # Chromium asks for /favicon.ico when a page is served over http without a <link rel=icon>.
    re.compile(r"favicon\.ico .*404"),
]

# JS that counts rendered Plotly plots: a plot counts once its SVG exists and holds at least one trace
# group (scatter/bar/box/heatmap/histogram layers all create `g.trace` or `.trace` elements).
_PLOT_STATS_JS = """
const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
const rendered = plots.filter(p => p.querySelector('.main-svg') && p.querySelector('.trace, g.trace, .point, .bars'));
return {plots: plots.length, rendered: rendered.length, ready: document.readyState};
"""


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for p in (CHROMIUM, CHROMEDRIVER):
        if not p.is_file():
            return f"{p} not installed (run `make system-deps`)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed"
    return None


def output_dir() -> Path:
    """Where screenshots go: $IKMS_TEST_OUTPUT/dashboards or <repo>/test-output/dashboards (git-ignored)."""
    base = os.environ.get("IKMS_TEST_OUTPUT")
    d = Path(base) / "dashboards" if base else ROOT / "test-output" / "dashboards"
    d.mkdir(parents=True, exist_ok=True)
    return d


class Browser:
    """A headless Chromium driven by chromedriver; console errors collected per page load."""

    def __init__(self, width: int = 1280, height: int = 900, block_network: bool = True):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            f"--window-size={width},{height}",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--lang=lv-LV",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ):
            options.add_argument(arg)
        if block_network:
            options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull),
            options=options,
        )
        self.driver.set_page_load_timeout(60)
        self.requests: list[str] = []  # URLs requested by the last load()
        self.console: list[dict] = []  # all console entries of the last load()

    # --- logs --------------------------------------------------------------------------------------
    def _drain(self) -> tuple[list[dict], list[str]]:
        console = self.driver.get_log("browser")
        urls = []
        for entry in self.driver.get_log("performance"):
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            if msg.get("method") == "Network.requestWillBeSent":
                urls.append(msg["params"]["request"]["url"])
        return console, urls

    @staticmethod
    def errors_of(entries: list[dict]) -> list[dict]:
        return [
            e for e in entries
            if e.get("level") == "SEVERE" and not any(p.search(e.get("message", "")) for p in IGNORED_CONSOLE)
        ]

    # --- navigation --------------------------------------------------------------------------------
    def load(self, url: str, wait_plots: int = 0, timeout: float = 30.0, settle: float = 0.3) -> list[dict]:
        """Open url, wait until the document is complete and >= wait_plots Plotly plots are rendered,
        then return the SEVERE console entries (JS exceptions, console.error, failed resources)."""
        self._drain()  # drop whatever the previous page left
        self.driver.get(url)
        self.wait_plots(wait_plots, timeout=timeout)
        time.sleep(settle)  # let late async errors (after newPlot promises) reach the log
        console, urls = self._drain()
        self.console, self.requests = console, urls
        return self.errors_of(console)

    def new_errors(self) -> list[dict]:
        """SEVERE console entries logged since the last load()/new_errors() (e.g. after scrolling or clicks)."""
        console, urls = self._drain()
        self.console += console
        self.requests += urls
        return self.errors_of(console)

    def plot_stats(self) -> dict:
        return self.driver.execute_script(_PLOT_STATS_JS)

    def wait_plots(self, minimum: int, timeout: float = 30.0) -> dict:
        """Wait for document complete and at least `minimum` rendered plots; the plot count must also be
        stable across two polls (pages render lazily in batches). Raises TimeoutError with the stats."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            stats = self.plot_stats()
            done = stats["ready"] == "complete" and stats["rendered"] >= minimum
            if done and (minimum == 0 or stats == last):
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.driver.current_url}: wanted {minimum} rendered plots, got {stats}")
            last = stats
            time.sleep(0.1)

    def settle(self, timeout: float = 20.0, quiet: float = 0.3) -> dict:
        """Wait until the plot count has not changed for `quiet` seconds (lazy charts drawn on scroll)."""
        deadline = time.monotonic() + timeout
        last, since = self.plot_stats(), time.monotonic()
        while time.monotonic() - since < quiet:
            time.sleep(0.1)
            stats = self.plot_stats()
            if stats != last:
                last, since = stats, time.monotonic()
            if time.monotonic() > deadline:
                break
        return last

    def reveal(self, css: str) -> None:
        """Scroll the first element matching css into view and let lazy charts near it draw."""
        found = self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); if (!e) return false;"
            "e.scrollIntoView({block: 'center'}); return true;", css)
        if not found:
            raise LookupError(f"{self.driver.current_url}: no element {css!r}")
        self.settle()

    def draw_all(self) -> dict:
        """Scroll through the whole page so every lazily drawn chart renders; back to the top."""
        h = int(self.driver.execute_script("return document.documentElement.scrollHeight;"))
        step = max(200, int(self.driver.get_window_size()["height"] * 0.8))
        for y in range(0, h + step, step):
            self.driver.execute_script("window.scrollTo(0, arguments[0]);", y)
            time.sleep(0.05)
        # under load the page's IntersectionObserver can miss a chart scrolled past between two frames: show
        # each chart still waiting (site.js marks them _ikmsDraw / _ikmsDone) until none is left
        left = ("const w = Array.from(document.querySelectorAll('div')).filter(e => e._ikmsDraw && !e._ikmsDone);"
                "if (w.length) w[0].scrollIntoView({block: 'center'}); return w.length;")
        deadline = time.monotonic() + 30
        while self.driver.execute_script(left) and time.monotonic() < deadline:
            time.sleep(0.1)
        stats = self.settle()
        self.driver.execute_script("window.scrollTo(0, 0);")
        return stats

    def wait_for(self, js_condition: str, timeout: float = 10.0) -> None:
        """Poll a JS boolean expression (e.g. "document.documentElement.lang === 'en'")."""
        deadline = time.monotonic() + timeout
        while not self.driver.execute_script(f"return !!({js_condition});"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.driver.current_url}: condition not met: {js_condition}")
            time.sleep(0.05)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def text(self) -> str:
        return self.driver.execute_script("return document.body ? document.body.innerText : '';")

    def external_requests(self) -> list[str]:
        """Requests of the last load that left the local disk / loopback (should be none)."""
        ok = ("file://", "data:", "blob:", "about:", "chrome", "devtools:", "http://127.0.0.1", "http://localhost")
        return [u for u in self.requests if not u.startswith(ok)]

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        """PNG of the current page in output_dir(); full_page grows the window to the document height."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "page"
        path = output_dir() / f"{safe}.png"
        size = self.driver.get_window_size()
        if full_page:
            h = int(self.driver.execute_script(
                "return Math.min(6000, Math.max(document.body.scrollHeight, document.documentElement.scrollHeight));"))
            self.driver.set_window_size(size["width"], max(h, size["height"]))
        try:
            if full_page:
                self.settle()  # the taller window brings lazily drawn charts into view
            self.driver.save_screenshot(str(path))
        finally:
            if full_page:
                self.driver.set_window_size(size["width"], size["height"])
        return path

    def close(self) -> None:
        self.driver.quit()


@contextmanager
def open_browser(**kwargs) -> Iterator[Browser]:
    b = Browser(**kwargs)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    reason = unavailable_reason()
    if reason:
        if os.environ.get("IKMS_ALLOW_NO_BROWSER") == "1":
            pytest.skip(reason)
        pytest.fail(f"{reason} (`make system-deps` installs Debian's chromium and chromium-driver)")
    with open_browser() as b:
        yield b


def format_errors(errors: list[dict]) -> str:
    return "\n".join(f"{e.get('level')}: {e.get('message')}" for e in errors)

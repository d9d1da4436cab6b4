"""Fixtures for the web tests: a real HTTP server process, headless Chromium, and seeded queue data.

The server (``tests/web/server.py``) runs ``tests.web.settings`` in its own
process on the suite's databases; the admin's users live on the SQLite
database, the queue data on the vendor's database of each test (the admin
pages take the backend alias in their URL).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.web.server import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
TOKEN = "s3cret-token-for-tests"


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: str  # the server's stderr (tracebacks of failed requests)

    def get(self, path: str, *, token: str | None = None, headers: dict | None = None):
        """(status, headers, body) of a GET, errors included."""
        request = urllib.request.Request(self.url + path, headers=dict(headers or {}))
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode()


def start_server(**env: str) -> Server:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.web.settings", "DJQ_TEST_LOG": "WARNING",
                   "PYTHONDONTWRITEBYTECODE": "1", "DJQ_TEST_SNAPSHOT_MAX_AGE": "0", **env}
    log = tempfile.NamedTemporaryFile("w+", prefix="djq-web-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen([str(PYTHON), "-m", "tests.web.server"], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if not match:
        proc.kill()
        log.seek(0)
        raise RuntimeError(f"the test server did not start: {line}{log.read()}")
    return Server(match.group(1), proc, log.name)


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(10)
    os.unlink(server.log)


@pytest.fixture(scope="session")
def server():
    """The web server with ``DJQ_OBSERVABILITY_TOKEN`` set to ``TOKEN``."""
    srv = start_server(DJQ_TEST_TOKEN=TOKEN)
    yield srv
    stop_server(srv)


# -- the browser ---------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (Debian's, through its chromedriver) for the session, fresh profile."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver; .ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="djq-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Browser:
    """A small page-object over Selenium for the admin: log in, open a path, click, read."""

    def __init__(self, driver, server: Server) -> None:
        self.driver = driver
        self.server = server

    def open(self, path: str) -> None:
        self.driver.get(self.server.url + path)

    def login(self, username: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.delete_all_cookies()
        self.open("/admin/login/?next=/admin/")
        self.driver.find_element(By.NAME, "username").send_keys(username)
        self.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.driver.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
        self.wait_for(lambda: "/admin/login/" not in self.driver.current_url, f"{username} to log in")

    def logout(self) -> None:
        self.driver.delete_all_cookies()

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def click(self, selector: str) -> None:
        old = self.driver.find_element("tag name", "html")
        self.css(selector).click()
        self.wait_for(lambda: _stale(old), f"the page after clicking {selector}")

    def text(self, selector: str = "body") -> str:
        return self.css(selector).text

    def messages(self) -> list[str]:
        return [m.text for m in self.all("ul.messagelist li")]

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.server.url)

    def wait_for(self, predicate, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def screenshot(self, name: str) -> Path:
        folder = Path(os.environ.get("DJQ_SCREENSHOTS", tempfile.gettempdir())) / "djq-web"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1400, max(700, min(int(height) + 40, 3000)))
        self.driver.save_screenshot(str(target))
        self.driver.set_window_size(1400, 1000)
        return target


def _stale(element) -> bool:
    try:
        element.is_enabled()
    except Exception:
        return True
    return False


@pytest.fixture
def browser(chromium, server):
    b = Browser(chromium, server)
    yield b
    b.logout()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the server's log to a failing web test (its tracebacks are in another process)."""
    outcome = yield
    report = outcome.get_result()
    srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.failed and srv is not None and os.path.exists(srv.log):
        with open(srv.log) as fh:
            report.sections.append(("web server log", fh.read()[-20000:]))

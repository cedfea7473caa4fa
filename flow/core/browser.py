"""Open an HTML file in headless Chromium: its console errors, its visible text and a full-page screenshot.

Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them where it can), driven through
chromedriver's W3C WebDriver HTTP interface with the standard library (urllib): no Python package, no
browser download. The flags keep Chromium offline and stateless (no sync, no component updates, a fresh
profile in a temporary folder). Used by the report tests and ``bench/report_pages.py``;
``python -m flow.core.browser PAGE.html SHOT.png`` does the same by hand.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars")  # fmt: skip
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
START_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 60.0
MAX_HEIGHT = 16384  # px: Chromium's largest screenshot side


class BrowserUnavailable(RuntimeError):
    """Chromium or chromedriver is not installed here; the message says which."""


@dataclass
class Rendered:
    errors: list[str]  # console messages at level SEVERE (script errors, failed loads)
    console: list[str]  # every console message
    text: str  # document.body.innerText
    title: str
    size: tuple[int, int]  # the page's scroll width and height in CSS pixels


def find_tools() -> tuple[str, str]:
    """(chromium, chromedriver) paths; BrowserUnavailable names what is missing and how to install it."""
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        missing = " and ".join(n for n, p in (("chromium", browser), ("chromedriver", driver)) if p is None)
        raise BrowserUnavailable(f"{missing} not found (Debian: apt-get install chromium chromium-driver)")
    return browser, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Driver:
    """One chromedriver process and one browser session on it."""

    def __init__(self, width: int):
        browser, driver = find_tools()
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="shiftbnn-chromium-")
        self.proc = subprocess.Popen([driver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        self.session = None
        try:
            self._wait_ready()
            args = [*CHROME_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},900"]
            caps = {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
                    "goog:chromeOptions": {"binary": browser, "args": args}}  # fmt: skip
            self.session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "/status").get("ready"):
                    return
            except (OSError, urllib.error.URLError):
                pass
            if self.proc.poll() is not None:
                raise BrowserUnavailable(f"chromedriver exited with status {self.proc.returncode}")
            time.sleep(0.1)
        raise BrowserUnavailable(f"chromedriver not ready within {START_TIMEOUT_S:g} s")

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        if self.session and path.startswith("/s/"):
            path = f"/session/{self.session}/" + path[3:]
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                return json.loads(response.read() or b"{}").get("value") or {}
        except urllib.error.HTTPError as exc:  # WebDriver errors come as JSON with a message
            detail = json.loads(exc.read() or b"{}").get("value", {})
            raise RuntimeError(f"WebDriver {method} {path}: {detail.get('message', exc)}") from None

    def script(self, source: str):
        return self.call("POST", "/s/execute/sync", {"script": source, "args": []})

    def close(self) -> None:
        try:
            if self.session:
                self.call("DELETE", f"/session/{self.session}")
        except (OSError, RuntimeError, urllib.error.URLError):
            pass
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def render(page: Path, screenshot: Path | None = None, width: int = 1280) -> Rendered:
    """Load ``page`` (a local file) in headless Chromium at ``width`` CSS pixels; with ``screenshot``,
    save the whole page (up to MAX_HEIGHT pixels tall) as PNG there."""
    driver = _Driver(width)
    try:
        driver.call("POST", "/s/url", {"url": Path(page).resolve().as_uri()})
        w, h = driver.script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        if screenshot is not None:
            driver.call("POST", "/s/window/rect", {"width": width, "height": min(int(h) + 140, MAX_HEIGHT)})
            png = base64.b64decode(driver.call("GET", "/s/screenshot"))
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            Path(screenshot).write_bytes(png)
        text = driver.script("return document.body ? document.body.innerText : ''")
        title = driver.script("return document.title")
        logs = driver.call("POST", "/s/se/log", {"type": "browser"}) or []
    finally:
        driver.close()
    console = [f"{e.get('level')}: {e.get('message')}" for e in logs]
    errors = [f"{e.get('message')}" for e in logs if e.get("level") == "SEVERE"]
    return Rendered(errors, console, text, title, (int(w), int(h)))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m flow.core.browser PAGE.html [SHOT.png]", file=sys.stderr)
        return 2
    result = render(Path(args[0]), Path(args[1]) if len(args) == 2 else None)
    for line in result.console:
        print(line)
    print(f"{result.title}: {result.size[0]} x {result.size[1]} px, {len(result.errors)} console errors")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fixtures for the browser suite: a throwaway FerretDB, the real flaskcart binary on a free
port, Debian's chromium driven by Playwright, and helpers for axe-core and screenshots.

Environment (CTest sets the first two): FLASKCART_BINARY, FLASKCART_BROWSER_ARTIFACTS,
FLASKCART_FERRETDB_BIN (default .local/bin/ferretdb), MONGODB_URI (use that server instead of
starting FerretDB; the test database is dropped afterwards), CHROMIUM (default /usr/bin/chromium).
"""

import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pymongo
import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = pathlib.Path(os.environ.get("FLASKCART_BROWSER_ARTIFACTS", ROOT / "build-test" / "browser-artifacts"))
AXE_SOURCE = ROOT / ".local" / "web" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct-horse-1"
# Flags known to work on this machine kind: no sandbox as root, no GPU, and no background
# networking (the machine's closed network refuses it, noisily).
expect.set_options(timeout=15000)
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Shop:
    """The running service: its URL, its database, and API shortcuts for test set-up."""

    def __init__(self, base_url, db, binary, env):
        self.base_url = base_url
        self.db = db
        self.binary = binary
        self.env = env

    def api(self, method, path, body=None, token=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        all_headers = dict(headers or {})
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, (json.loads(text) if text else None)

    def register(self, name, email, password=PASSWORD):
        status, body = self.api("POST", "/register", {"name": name, "email": email, "password": password})
        assert status == 201, body
        return body

    def login(self, email, password=PASSWORD):
        status, body = self.api("POST", "/login", {"email": email, "password": password})
        assert status == 200, body
        return body["token"]

    def make_admin(self, name, email):
        self.register(name, email)
        env = dict(self.env, FLASKCART_ADMIN_PASSWORD=PASSWORD)
        subprocess.run([self.binary, "--log-level=warn", "create-admin", "--email", email],
                       env=env, check=True, stdout=subprocess.DEVNULL, timeout=60)
        return self.login(email)

    def stock_of(self, product_id):
        from bson import ObjectId
        return self.db.products.find_one({"_id": ObjectId(product_id)})["stock"]


@pytest.fixture(scope="session", autouse=True)
def fresh_artifacts():
    """Screenshots of this run only (no stale failure pictures from an earlier one)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def shop():
    binary = os.environ.get("FLASKCART_BINARY", str(ROOT / "build-test" / "flaskcart"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="flaskcart-browser-"))
    database = f"fc_browser_{os.getpid()}"
    ferret = None
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        port = free_port()
        (work / "data").mkdir()
        ferret_bin = os.environ.get("FLASKCART_FERRETDB_BIN", str(ROOT / ".local" / "bin" / "ferretdb"))
        ferret = subprocess.Popen([ferret_bin, f"--listen-addr=127.0.0.1:{port}",
                                   f"--sqlite-url=file:{work / 'data'}/", "--log-level=error"],
                                  stdout=subprocess.DEVNULL, stderr=open(work / "ferretdb.log", "w"))
        wait_for_port(port, ferret)
        uri = f"mongodb://127.0.0.1:{port}/"
    env = dict(os.environ, MONGODB_URI=uri, FLASKCART_DATABASE=database,
               FLASKCART_JWT_SECRET=secrets.token_hex(32))
    log = open(work / "flaskcart.log", "w")
    # Dev mode on an empty database: the demo catalog is loaded at start-up (tested below).
    # Every test registers its own accounts from 127.0.0.1: the per-address registration limit
    # is raised (the limit itself is tested in the api tier).
    service = subprocess.Popen([binary, "--port=0", "--maintenance-interval=1", "--log-level=info",
                                "--register-max-per-address=100000"],
                               env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = service.stdout.readline()
        match = re.match(r"LISTENING (\d+)", line)
        assert match, f"flaskcart did not start: {line!r}; log in {work}"
        base_url = f"http://127.0.0.1:{match.group(1)}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base_url + "/ready", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "flaskcart never became ready"
            time.sleep(0.1)
        client = pymongo.MongoClient(uri)
        yield Shop(base_url, client[database], binary, env)
        client.drop_database(database)
        client.close()
    finally:
        service.terminate()
        code = service.wait(timeout=30)
        log.close()
        if ferret:
            ferret.terminate()
            ferret.wait(timeout=30)
        # A sanitizer report or a crash is a failure even when every page looked right.
        text = (work / "flaskcart.log").read_text(errors="replace")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "flaskcart.log", ARTIFACTS / "flaskcart.log")
        shutil.rmtree(work, ignore_errors=True)
        assert code == 0, f"flaskcart exited with {code}"
        assert "ERROR: AddressSanitizer" not in text and "runtime error:" not in text, text[-4000:]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


class Tab:
    """A browser page with the checks every test wants: no CSP violation and no uncaught
    script error (collected as they happen), axe-core, and screenshots."""

    def __init__(self, page, shop):
        self.page = page
        self.shop = shop
        self.script_errors = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("console", self._on_console)

    def _on_console(self, message):
        if message.type == "error" and ("Content Security Policy" in message.text or "Refused to" in message.text):
            self.script_errors.append(message.text)

    def goto(self, path):
        self.page.goto(self.shop.base_url + path)

    def axe(self, name):
        """Runs axe-core at 375 px and 1280 px, keeps a screenshot of each, and fails on any
        serious or critical violation."""
        page = self.page
        original = page.viewport_size
        problems = []
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(50)  # one layout pass at the new width
            # Evaluated through the DevTools protocol, which this page's CSP does not govern.
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate(AXE_SOURCE.read_text())
            result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            for violation in result["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    targets = [node["target"] for node in violation["nodes"][:5]]
                    problems.append(f"{width}px {violation['id']} ({violation['impact']}): {violation['help']} {targets}")
            self.screenshot(f"{name}-{width}")
        page.set_viewport_size(original)
        assert not problems, "\n".join(problems)

    def screenshot(self, name, full_page=True):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def tab(browser, shop, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15000)
    page = context.new_page()
    current = Tab(page, shop)
    yield current
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        current.screenshot(f"FAILED-{request.node.name}")
    context.close()
    if not failed:
        assert not current.script_errors, current.script_errors


@pytest.fixture(scope="session")
def admin_token(shop):
    """The shop's one administrator (made with `flaskcart create-admin`, as the README says)."""
    return shop.make_admin("Ada Admin", "admin@example.com")

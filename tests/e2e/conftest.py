"""End-to-end fixtures: the real ``mirada serve`` process and headless Chromium.

One server runs for the whole session on a fresh PostgreSQL database that the real
migrations build; its mail goes to the session's ``mail_catcher``. Tests run at
two viewports (desktop and phone); each test gets fresh browser contexts (fresh cookies).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.pages import REPO_ROOT, TRANSLATIONS, LiveServer
from tests.support.mail import MailCatcher

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("MIRADA_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 30.0
ADMIN_EMAIL = "admin@example.com"

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mirada() -> str:
    """The ``mirada`` console script of the virtual environment running the tests."""
    script = Path(sys.executable).with_name("mirada")
    assert script.exists(), f"no mirada executable next to {sys.executable}"
    return str(script)


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    result = subprocess.run(
        [_mirada(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"mirada {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )


def _catalogs_stale() -> bool:
    """Whether some ``.po`` catalog has no ``.mo`` yet, or a newer one."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            return True
    return False


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    pytest.fail(
        f"mirada serve did not answer {url}/healthz with 200 within {STARTUP_TIMEOUT_S:.0f} s "
        f"(exit code {process.returncode}). Its output:\n{log.read_text(errors='replace')}"
    )


@pytest.fixture(scope="session")
def e2e_database_url(postgres_url: str) -> Iterator[str]:
    """An empty database of the server's own, next to the session's ``postgres_url``.

    Not that one itself: the ``app`` fixture of the other tests fills it with
    ``create_all()`` and empties it, which would clash with the migrations run here.
    """
    url = make_url(postgres_url)
    name = f"{url.database}_e2e"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def live_server(
    e2e_database_url: str,
    mail_catcher: MailCatcher,
    model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """``mirada serve`` in its own process, on a database built by ``mirada db upgrade``."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MIRADA_")}
    env.update(
        MIRADA_ENV="development",
        MIRADA_SECRET_KEY=secrets.token_hex(32),
        MIRADA_DATA_DIR=str(data_dir),
        MIRADA_BASE_URL=f"http://127.0.0.1:{port}",  # e-mailed links point at this server
        MIRADA_DATABASE_URL=e2e_database_url,
        MIRADA_MAIL_SERVER="127.0.0.1",
        MIRADA_MAIL_PORT=str(mail_catcher.port),
        MIRADA_MODEL_PATH=str(model_path),
        # Every browser of the session signs up from 127.0.0.1: one address, many people.
        MIRADA_SIGNUPS_PER_ADDRESS="10000",
        PYTHONUNBUFFERED="1",
    )
    if _catalogs_stale():
        _run(["translate", "compile"], env)
    _run(["db", "upgrade"], env)

    log = data_dir / "server.log"
    url = f"http://127.0.0.1:{port}"
    bind = ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [_mirada(), "serve", *bind, "--workers", "1", "--threads", "4"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # The administrator is created while the server boots.
        admin_password = "admin-" + secrets.token_urlsafe(12)
        create_admin = ["users", "create", ADMIN_EMAIL, "--admin", "--password-stdin"]
        _run(create_admin, env, stdin=admin_password + "\n")
    except BaseException:
        process.terminate()
        process.wait(timeout=15)
        raise
    _wait_until_healthy(url, process, log)
    yield LiveServer(url=url, admin_email=ADMIN_EMAIL, admin_password=admin_password)
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium from the system (no browser is ever downloaded)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    """The name of the viewport the test runs at: ``desktop`` or ``phone``."""
    return str(request.param)


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer, viewport: str
) -> Iterator[Callable[[], BrowserContext]]:
    """Opens fresh browser contexts (fresh cookies) at the test's viewport."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", **VIEWPORTS[viewport]
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[[], BrowserContext]) -> Page:
    """A page in a fresh context."""
    return new_context().new_page()


@pytest.fixture
def new_page(new_context: Callable[[], BrowserContext]) -> Callable[[], Page]:
    """Opens another page in another fresh context (another browser, as far as the app knows)."""
    return lambda: new_context().new_page()


@pytest.fixture
def unique_email(request: pytest.FixtureRequest, viewport: str) -> Callable[[str], str]:
    """Addresses no other test or viewport uses: ``unique_email("reset")``."""
    test = request.node.originalname.removeprefix("test_").replace("_", "-")[:20]

    def make(label: str = "user") -> str:
        return f"{label}-{test}-{viewport}-{uuid.uuid4().hex[:8]}@example.com"

    return make


@pytest.fixture
def screenshot(viewport: str) -> Callable[[Page, str], Path]:
    """Saves a full-page screenshot to ``test-artifacts/screenshots/<viewport>/<name>.png``."""

    def take(page: Page, name: str) -> Path:
        folder = SCREENSHOTS / viewport
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

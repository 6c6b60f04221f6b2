"""Whether the time of ``POST /auth/forgot`` tells that an account exists.

Usage: ``python benchmarks/forgot_timing.py [REQUESTS]`` (default 40 per case). An app on a
temporary SQLite database, its mail going to a real SMTP server on loopback (aiosmtpd).
Times the request for an address with an account and for one without, once with the
work done in the request (as before the fix: look up, write the link, mail it) and once
handed to the background thread (as now). The two addresses take turns, and each request
starts once the background work of the one before has finished. Prints one JSON
document; compare ``known_over_unknown`` within one run.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.mail import MailCatcher
from tests.support.web import csrf_token_in

from mirada.config import Settings
from mirada.db import User
from mirada.db.app_session import db
from mirada.jobs.later import Later
from mirada.services import passwords
from mirada.web import create_app


class InlineWork:
    """The old behaviour: the request itself looks the account up, writes and mails."""

    def submit(self, work: Callable[[], None]) -> None:
        work()

    def flush(self) -> None:
        """Nothing is left to wait for."""


def _medians_ms(app: Any, emails: tuple[str, ...], requests: int) -> list[float]:
    """The median time of a reset request for each address, asked for in turn (so that the
    machine's drift touches every address alike)."""
    client = app.test_client()
    token = csrf_token_in(client.get("/auth/forgot").get_data(as_text=True))
    times: list[list[float]] = [[] for _ in emails]
    for i in range(requests * len(emails)):
        which = i % len(emails)
        started = time.perf_counter()
        response = client.post(
            "/auth/forgot",
            data={"email": emails[which], "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"10.0.{i // 250}.{i % 250}"},
        )
        times[which].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, response.status_code
        app.extensions["mirada.later"].flush()  # untimed: the next request starts on a quiet app
    return [statistics.median(each) for each in times]


def main(requests: int) -> dict[str, Any]:
    catcher = MailCatcher()
    catcher.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                env="testing",
                data_dir=Path(tmp),
                mail_server="127.0.0.1",
                mail_port=catcher.port,
                reset_requests_per_account=10 * requests,
                reset_requests_per_address=10 * requests,
            )
            app = create_app(settings)
            with app.app_context():
                db.create_all()
                db.session.add(
                    User(email="known@example.org", password_hash=passwords.hash_password("x"))
                )
                db.session.commit()
            figures: dict[str, Any] = {"requests_per_case": requests}
            for name, runner in (("in_request", InlineWork()), ("background", Later(app))):
                app.extensions["mirada.later"] = runner
                known, unknown = _medians_ms(
                    app, ("known@example.org", "unknown@example.org"), requests
                )
                figures[name] = {
                    "known_ms": round(known, 2),
                    "unknown_ms": round(unknown, 2),
                    "known_over_unknown": round(known / unknown, 2),
                }
            figures["mails_received"] = len(catcher.messages)
            return figures
    finally:
        catcher.stop()


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40), indent=2))

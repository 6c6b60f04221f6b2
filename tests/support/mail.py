"""A real SMTP server on loopback that keeps the messages it receives."""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailCatcher:
    """aiosmtpd on 127.0.0.1; ``messages`` holds what arrived, oldest first."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Messages sent to ``address``."""
        with self._lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, count: int = 1, timeout_s: float = 30.0) -> list[EmailMessage]:
        """Messages to ``address`` once at least ``count`` arrived (mail leaves in the
        background), or what arrived when ``timeout_s`` ran out."""
        deadline = time.monotonic() + timeout_s
        while len(messages := self.messages_to(address)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return messages

    def last_link(self, address: str) -> str:
        """The last URL in the last message to ``address`` (waiting for one to arrive)."""
        messages = self.wait_for(address)
        assert messages, f"no mail to {address}"
        body = messages[-1].get_body(preferencelist=("plain",))
        assert body is not None
        links = re.findall(r"https?://\S+", body.get_content())
        assert links, "no link in the message"
        return links[-1]

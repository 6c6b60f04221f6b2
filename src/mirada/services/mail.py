"""Sending mail: over SMTP when a server is configured, otherwise into the log."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from mirada.config import Settings

log = logging.getLogger(__name__)


def send_mail(*, settings: Settings, to: str, subject: str, body: str) -> None:
    """Send a plain-text message, or log it in full when no SMTP server is set."""
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not settings.mail_server:
        # The text as written, not the transfer encoding (quoted-printable for accents).
        log.warning(
            "No MIRADA_MAIL_SERVER set; this mail is not sent:\n"
            "From: %s\nTo: %s\nSubject: %s\n\n%s",
            message["From"],
            message["To"],
            message["Subject"],
            message.get_content(),
        )
        return
    smtp_class = smtplib.SMTP_SSL if settings.mail_use_ssl else smtplib.SMTP
    with smtp_class(settings.mail_server, settings.mail_port, timeout=30) as smtp:
        if settings.mail_use_tls:
            smtp.starttls()
        if settings.mail_username:
            smtp.login(settings.mail_username, settings.mail_password)
        smtp.send_message(message)


class Mailer(Protocol):
    """Something that sends a plain-text message."""

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Send (or queue) one message."""


class SmtpMailer:
    """Sends over SMTP (or into the log) with the configured server; the caller decides
    whether that happens in a request or in the background."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Send the message now."""
        send_mail(settings=self._settings, to=to, subject=subject, body=body)


@dataclass(frozen=True)
class Letter:
    """A message's subject and body, in its reader's language."""

    subject: str
    body: str


@dataclass(frozen=True)
class Envelope:
    """A letter and its recipient: what a service asks its door to post once its
    transaction is committed (so that a mailed link always works)."""

    to: str
    letter: Letter


class Letters(Protocol):
    """The mails the services send, worded by the door (``mirada.presenters.mail``)."""

    def reset_password(self, *, link: str, minutes: int) -> Letter:
        """The link to choose a new password, valid for ``minutes``."""

    def confirm_account(self, *, link: str, hours: int) -> Letter:
        """The link that turns a registration into an account, valid for ``hours``."""

    def account_exists(self, *, sign_in_link: str) -> Letter:
        """The warning to an address that already has an account."""


def post(mailer: Mailer, envelope: Envelope) -> None:
    """Send ``envelope`` with ``mailer``."""
    mailer.send(to=envelope.to, subject=envelope.letter.subject, body=envelope.letter.body)

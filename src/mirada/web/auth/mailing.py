"""Mail the auth pages hand to the background: the service writes its link and words its
letter, this door commits the link and only then posts the letter (a mailed link works)."""

from __future__ import annotations

from collections.abc import Callable

from mirada.config import Settings
from mirada.db.app_session import db
from mirada.presenters.mail import LETTERS
from mirada.services import password_reset, signups
from mirada.services.mail import Envelope, Mailer, post


def _post_committed(mailer: Mailer, envelope: Envelope | None) -> None:
    db.session.commit()
    if envelope is not None:
        post(mailer, envelope)


def mail_reset_link(
    *, settings: Settings, mailer: Mailer, email: str, link_for: Callable[[str], str]
) -> None:
    """A reset link to ``email`` if an active account has it; nothing otherwise."""
    envelope = password_reset.request_reset(
        session=db.session(), settings=settings, letters=LETTERS, email=email, link_for=link_for
    )
    _post_committed(mailer, envelope)


def mail_account_request(
    *,
    settings: Settings,
    mailer: Mailer,
    request: signups.AccountRequest,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
) -> None:
    """A confirmation link for a registration, or a warning to the address's owner."""
    envelope = signups.request_account(
        session=db.session(),
        settings=settings,
        letters=LETTERS,
        request=request,
        confirm_link=confirm_link,
        sign_in_link=sign_in_link,
    )
    _post_committed(mailer, envelope)

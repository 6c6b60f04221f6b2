"""The words of the mails Mirada sends, in the language of the request that asked for them
(the background work that composes them runs in that language)."""

from __future__ import annotations

from flask_babel import gettext as _

from mirada.services.mail import Letter


class MailWording:
    """The letters of ``mirada.services.mail.Letters``, worded with Flask-Babel."""

    def reset_password(self, *, link: str, minutes: int) -> Letter:
        """The link to choose a new password, valid for ``minutes``."""
        body = _(
            "Someone asked to reset the password of your Mirada account.\n\n"
            "To choose a new password, open this link within %(minutes)d minutes:\n\n%(link)s\n\n"
            "If it was not you, ignore this message; your password stays as it is.",
            minutes=minutes,
            link=link,
        )
        return Letter(subject=_("Reset your Mirada password"), body=body)

    def confirm_account(self, *, link: str, hours: int) -> Letter:
        """The link that turns a registration into an account, valid for ``hours``."""
        body = _(
            "To finish creating your Mirada account, open this link within %(hours)d hours "
            "and enter the password you chose:\n\n%(link)s\n\n"
            "If it was not you, ignore this message; no account is created.",
            hours=hours,
            link=link,
        )
        return Letter(subject=_("Confirm your Mirada account"), body=body)

    def account_exists(self, *, sign_in_link: str) -> Letter:
        """The warning to an address that already has an account."""
        body = _(
            "Someone tried to create a Mirada account with this address, which already "
            "has one.\n\nIf it was you, sign in here (you can ask for a new password "
            "there if you forgot it):\n\n%(link)s\n\n"
            "If it was not you, ignore this message; nothing has changed.",
            link=sign_in_link,
        )
        subject = _("Someone tried to create a Mirada account with your address")
        return Letter(subject=subject, body=body)


LETTERS = MailWording()

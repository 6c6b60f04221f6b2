"""The words of accounts: refusals of sign-up, sign-in, passwords, profiles and
administration, the same on the pages and in the CLI."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording, say

REFUSALS: dict[str, Wording] = {
    "invalid_email": _l("Enter a valid email address."),
    "email_taken": _l("An account with this email already exists."),
    "display_name_invalid": _l("The name contains characters that are not allowed."),
    "display_name_too_long": _l("Use at most %(n)d characters for the name."),
    "invalid_locale": _l("Choose one of the offered languages."),
    "invalid_timezone": _l("Choose a time zone from the list."),
    "password_too_short": _l("Use at least %(n)d characters."),
    "password_too_long": _l("Use at most %(n)d characters."),
    "password_too_common": _l("This password is too common. Choose one that is harder to guess."),
    "too_many_attempts": _l("Too many failed attempts. Try again in %(n)d minutes."),
    "too_many_requests": _l("Too many requests. Try again in %(n)d minutes."),
    "bad_credentials": _l("Wrong email or password."),
    "bad_current_password": _l("The current password is wrong."),
    "not_the_chosen_password": _l("This is not the password you chose."),
    "account_disabled": _l("This account is disabled. Contact an administrator."),
    "invalid_reset_link": _l("This reset link is invalid, used or expired. Ask for a new one."),
    "invalid_signup_link": _l("This link is invalid, used or expired."),
    "user_not_found": _l("No such user."),
    "cannot_change_self": _l("You cannot change your own account here; ask another administrator."),
    "last_admin": _l("This is the last active administrator; make another one first."),
    "photo_limit_invalid": _l("The photo limit must be a positive number."),
    "storage_limit_invalid": _l("The storage limit must be a positive number."),
}

# What the user list and ``mirada users`` say once an administrator changed an account.
CHANGES_DONE: dict[str, Wording] = {
    "disable": _l("%(email)s is disabled and signed out."),
    "enable": _l("%(email)s is enabled."),
    "promote": _l("%(email)s is now an administrator."),
    "demote": _l("%(email)s is no longer an administrator."),
}


def change_done(change: str, *, email: str) -> str:
    """The sentence for ``change`` (``services.admin.CHANGES``) made to ``email``."""
    return say(CHANGES_DONE[change], {"email": email})

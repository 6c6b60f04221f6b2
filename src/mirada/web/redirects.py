"""Redirect targets that cannot send a user to another site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, otherwise ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return default
    return target


def return_path() -> str:
    """Where to come back to after a form in the page chrome (the language switcher).

    The page itself when it was a GET; after a POST (a form shown again with errors) the
    page the form was on, from the Referer when it is on this site, else the start page.
    """
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        path = referrer.path + ("?" + referrer.query if referrer.query else "")
        return safe_next(path, "/")
    return "/"


def back_path(default: str | None = None) -> str | None:
    """Where "Go back" leads: the Referer when it is another page of this site, else ``default``."""
    here = request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        path = referrer.path + ("?" + referrer.query if referrer.query else "")
        target = safe_next(path, "")
        if target and (target != here or request.method != "GET"):
            return target
    return default if default != here else None

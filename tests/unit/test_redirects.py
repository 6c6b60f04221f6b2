"""``safe_next``: redirect targets that stay on this site."""

from __future__ import annotations

import pytest

from mirada.web.redirects import safe_next

DEFAULT = "/home"


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/account/",
        "/admin/users?q=bob&page=2",
        "/classify#results",
        "/a/b/../c",
        "/caf%C3%A9",
        "/path:with:colons",
    ],
)
def test_local_paths_are_kept(target: str) -> None:
    assert safe_next(target, DEFAULT) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.com",
        "//evil.com/path",
        "///evil.com",
        "https://evil.com",
        "http://evil.com/",
        "HTTPS://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "\\/evil.com",
        "/\\/evil.com",
        "javascript:alert(1)",
        "evil.com",
        "account/",
        "/\tevil.com",
        "/\nevil.com",
        "/\r\nLocation: https://evil.com",
        "/\x00",
        " /account/",
    ],
)
def test_anything_else_gives_the_default(target: str | None) -> None:
    assert safe_next(target, DEFAULT) == DEFAULT

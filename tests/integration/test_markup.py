"""The pages' HTML: no attribute printed as "None", no duplicate ids."""

from __future__ import annotations

import re
from collections import Counter

from tests.support.web import WebClient

ANONYMOUS_PAGES = ["/", "/auth/register", "/auth/login", "/auth/forgot"]
SIGNED_IN_PAGES = ["/", "/account/", "/classify", "/history", "/projects"]


def problems(html: str) -> list[str]:
    found = [f"attribute printed as None: {m}" for m in re.findall(r'[\w-]+="None"', html)]
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    found += [f"duplicate id: {i}" for i, n in ids.items() if n > 1]
    return found


def test_pages_have_clean_markup(app, web: WebClient) -> None:
    for path in ANONYMOUS_PAGES:
        assert problems(web.get(path).get_data(as_text=True)) == [], path
    web.register("markup@example.com")
    project = web.submit("/projects", {"name": "Markup"})
    pages = [*SIGNED_IN_PAGES, project.headers["Location"]]
    for path in pages:
        response = web.get(path)
        assert response.status_code == 200, path
        assert problems(response.get_data(as_text=True)) == [], path

"""The pages' HTML: no attribute printed as "None", no duplicate ids."""

from __future__ import annotations

import re
from collections import Counter

from tests.support.projects import Browser
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


def test_upload_refusals_are_announced_by_a_container_not_by_the_list(app) -> None:
    browser = Browser(app, "alerts@example.com")
    project = browser.create_project("Alerts")
    cls = browser.add_class(project, "notes")
    page = browser.upload(project, cls, [(b"not a photo\n" * 9, "notes.jpg")])
    html = page.get_data(as_text=True)
    assert 'class="refused-list"' in html
    assert re.search(r'<div role="alert">\s*<ul class="refused-list">', html)
    assert not re.search(r'<(ul|ol)[^>]*role="alert"', html)

"""The start page shows what Mirada does on a real photo, with the model's real answer."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from mirada.inference.in_process import InProcessInference
from mirada.web.main.example import EXAMPLE_IMAGE, EXAMPLE_PREDICTIONS, EXAMPLE_SIZE
from tests.support.web import WebClient

STATIC = Path(__file__).resolve().parents[2] / "src" / "mirada" / "web" / "static"


def test_the_example_is_what_the_model_says_about_the_shipped_photo(model_path: Path) -> None:
    with Image.open(STATIC / EXAMPLE_IMAGE) as image:
        assert image.size == EXAMPLE_SIZE
        assert image.format == "WEBP"
        answer = InProcessInference(model_path=model_path).classify([image.convert("RGB")], k=3)
    said = [(p.label, round(p.score, 3)) for p in answer[0]]
    shown = [(p.imagenet_label, p.score) for p in EXAMPLE_PREDICTIONS]
    assert [label for label, _ in said] == [label for label, _ in shown]
    for (_, score), (_, expected) in zip(said, shown, strict=True):
        assert abs(score - expected) < 0.005, (said, shown)
    assert (STATIC / EXAMPLE_IMAGE).stat().st_size < 40_000


def test_visitors_see_the_example_and_what_mirada_does(app, web: WebClient) -> None:
    page = web.get("/").get_data(as_text=True)
    assert f'src="/static/{EXAMPLE_IMAGE}" width="451" height="300"' in page
    assert "What the model said about this photo:" in page
    assert "Egyptian cat" in page and "42.4%" in page
    assert "Teach your own classes" in page
    picture = web.get(f"/static/{EXAMPLE_IMAGE}")
    assert picture.status_code == 200
    assert picture.content_type == "image/webp"


def test_the_example_speaks_spanish(app, web: WebClient) -> None:
    page = web.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Lo que dijo el modelo de esta foto:" in page
    assert "gato egipcio" in page

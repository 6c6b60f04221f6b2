"""The Classify page and its JSON answers, with the real model and the real blob store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from mirada.db import Classification
from mirada.db.app_session import db
from tests.support.images import SVG, animated_gif, encode, png_declaring
from tests.support.web import WebClient

JSON = {"Accept": "application/json"}


def blob_files(app: Flask) -> list[Path]:
    root = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def row_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Classification.id))) or 0


def upload(web: WebClient, files: list[tuple[bytes, str]], headers: dict[str, str] | None = None):
    return web.submit(
        "/classify",
        {"photos": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
        headers=headers or {},
    )


@pytest.fixture
def signed_in(web: WebClient) -> WebClient:
    assert web.register("photographer@example.com").status_code == 302
    return web


def test_classify_page_needs_sign_in(client) -> None:
    response = client.get("/classify")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_two_photos_are_classified_and_kept(app, signed_in, cat_jpeg, coffee_jpeg) -> None:
    response = upload(signed_in, [(cat_jpeg, "chelsea.jpg"), (coffee_jpeg, "coffee.jpg")])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="result-card"') == 2
    assert "espresso" in page
    assert row_count(app) == 2
    assert len(blob_files(app)) == 4  # an image and a thumbnail each


def test_json_answer_has_ranked_predictions(app, signed_in, coffee_jpeg) -> None:
    response = upload(signed_in, [(coffee_jpeg, "coffee.jpg")], headers=JSON)
    assert response.status_code == 200
    (result,) = response.json["results"]
    assert result["file"] == "coffee.jpg"
    predictions = result["predictions"]
    assert len(predictions) == 5
    assert predictions[0]["label"] == "espresso"
    scores = [p["score"] for p in predictions]
    assert scores == sorted(scores, reverse=True)
    assert 0 < sum(scores) <= 1.0 + 1e-6
    thumbnail = signed_in.get(result["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.data)).size == (256, 171)
    image = signed_in.get(result["image_url"])
    assert image.data == coffee_jpeg
    assert image.content_type == "image/jpeg"


def test_thumbnails_stored_as_webp_are_still_served_as_webp(app, signed_in, cat_jpeg) -> None:
    """Thumbnails were WebP before they were JPEG; the ones kept then keep their type."""
    response = upload(signed_in, [(cat_jpeg, "chelsea.jpg")], headers=JSON)
    (result,) = response.json["results"]
    (stored,) = [p for p in blob_files(app) if p.parent.name == "thumbnails"]
    webp = io.BytesIO()
    Image.open(stored).save(webp, "WEBP", quality=80)
    stored.write_bytes(webp.getvalue())
    thumbnail = signed_in.get(result["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.content_type == "image/webp"
    assert thumbnail.data == webp.getvalue()


def test_stored_names_come_from_the_server(app, signed_in, cat_jpeg) -> None:
    upload(signed_in, [(cat_jpeg, "../../etc/passwd.jpg")])
    names = [p.name for p in blob_files(app)]
    assert names and all("passwd" not in name for name in names)
    with app.app_context():
        row = db.session.scalars(select(Classification)).one()
        assert row.filename == "passwd.jpg"


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


BAD_FILES = {
    "empty": (b"", 422, "empty"),
    "text named .jpg": (b"just some text, not a photo\n" * 20, 415, "unsupported_format"),
    "svg": (SVG, 415, "unsupported_format"),
    "png bomb": (png_declaring(30000, 30000), 413, "too_many_pixels"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_and_leave_nothing(app, signed_in, case) -> None:
    data, status, code = BAD_FILES[case]
    response = upload(signed_in, [(data, "photo.jpg")], headers=JSON)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert row_count(app) == 0
    assert blob_files(app) == []


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_refused(app, signed_in, cat_jpeg, fmt) -> None:
    from PIL import Image

    whole = encode(Image.open(io.BytesIO(cat_jpeg)), fmt)
    response = upload(signed_in, [(_truncated(whole), "cut." + fmt.lower())], headers=JSON)
    assert response.status_code == 422
    assert response.json["error"]["code"] in {"truncated", "corrupt"}
    assert row_count(app) == 0
    assert blob_files(app) == []


def test_bad_file_on_the_page_gets_a_readable_message(app, signed_in) -> None:
    response = upload(signed_in, [(b"%PDF-1.4 not an image", "scan.pdf")])
    assert response.status_code == 415
    assert "This file type is not supported" in response.get_data(as_text=True)


def test_a_bad_file_does_not_stop_the_good_ones(app, signed_in, cat_jpeg) -> None:
    response = upload(signed_in, [(cat_jpeg, "cat.jpg"), (b"nope", "bad.jpg")], headers=JSON)
    assert response.status_code == 200
    good, bad = response.json["results"]
    assert good["predictions"]
    assert bad["error"]["code"] == "unsupported_format"
    assert row_count(app) == 1


def test_animated_gif_uses_its_first_frame(app, signed_in) -> None:
    response = upload(signed_in, [(animated_gif(), "moving.gif")], headers=JSON)
    assert response.status_code == 200
    assert response.json["results"][0]["predictions"]


def test_oversized_body_is_refused_before_reading(app, signed_in) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = upload(signed_in, [(b"\xff\xd8\xff" + b"0" * limit, "huge.jpg")], headers=JSON)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"
    assert row_count(app) == 0


def test_file_over_the_byte_limit_is_refused(app, signed_in, cat_jpeg) -> None:
    app.extensions["mirada.settings"].max_upload_bytes = len(cat_jpeg) - 1
    response = upload(signed_in, [(cat_jpeg, "cat.jpg")], headers=JSON)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert row_count(app) == 0


def test_no_file_and_too_many_files(app, signed_in, cat_jpeg) -> None:
    assert upload(signed_in, [], headers=JSON).status_code == 400
    many = [(cat_jpeg, f"{i}.jpg") for i in range(21)]
    response = upload(signed_in, many, headers=JSON)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "too_many_files"
    assert row_count(app) == 0


def test_missing_model_answers_503(app, signed_in, cat_jpeg, tmp_path) -> None:
    from mirada.inference import InProcessInference

    app.extensions["mirada.inference"] = InProcessInference(model_path=tmp_path / "none.onnx")
    response = upload(signed_in, [(cat_jpeg, "cat.jpg")], headers=JSON)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "model_unavailable"
    assert row_count(app) == 0
    assert blob_files(app) == []


def test_limits_read_in_the_readers_language(app, signed_in) -> None:
    """The refusal's numbers are formatted where it is worded: a decimal comma in Spanish."""
    settings = app.extensions["mirada.settings"]
    settings.max_upload_bytes = 2_500_000
    settings.max_image_pixels = 1_500_000
    settings.max_jpeg_pixels = 12_250_000
    response = signed_in.submit("/", {"locale": "es", "next": "/"}, action="/language")
    assert response.status_code == 302
    too_large = upload(signed_in, [(b"\xff\xd8\xff" + b"0" * 2_500_000, "a.jpg")], headers=JSON)
    assert too_large.json["error"]["message"] == "El archivo supera el límite de 2,5 MB."
    too_many = upload(signed_in, [(png_declaring(2000, 1000), "b.png")], headers=JSON)
    assert too_many.status_code == 413
    assert too_many.json["error"]["message"] == (
        "La imagen tiene más píxeles que el límite de 1,5 megapíxeles. Expórtala como JPEG "
        "(hasta 12,2 megapíxeles) o redúcela a 1,5 megapíxeles como máximo."
    )
    assert row_count(app) == 0

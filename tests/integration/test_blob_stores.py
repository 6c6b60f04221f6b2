"""Both blob stores keep the same promises: the data folder, and an S3-compatible store
(a real S3-protocol server process on loopback)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from mirada.config import Settings
from mirada.storage import BlobNotFound, BlobStore, InvalidBlobKey, LocalBlobStore, blob_store_from
from mirada.storage.s3 import S3BlobStore
from tests.conftest import app_on, make_settings
from tests.support.projects import JSON, Browser
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

FUTURE = datetime.now(UTC) + timedelta(days=1)
PAST = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    server: S3Server = request.getfixturevalue("s3")
    return S3BlobStore(server.client(), bucket=server.new_bucket(), prefix="mirada/blobs")


def test_a_blob_is_read_back_replaced_and_deleted(store: BlobStore) -> None:
    store.put("users/1/photos/a.jpg", b"first")
    assert store.get("users/1/photos/a.jpg") == b"first"
    store.put("users/1/photos/a.jpg", b"second")
    assert store.get("users/1/photos/a.jpg") == b"second"
    store.delete("users/1/photos/a.jpg")
    with pytest.raises(BlobNotFound):
        store.get("users/1/photos/a.jpg")
    store.delete("users/1/photos/a.jpg")  # already gone: not an error


@pytest.mark.parametrize("key", ["../escape", "/root", "Users/1", "a//b", "a/../b", ""])
def test_unsafe_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        store.put(key, b"x")


def test_a_prefix_is_deleted_whole_and_alone(store: BlobStore) -> None:
    for key in ("users/1/a", "users/1/deep/b", "users/10/c", "users/2/d"):
        store.put(key, key.encode())
    store.delete_prefix("users/1")
    assert sorted(store.keys("users", written_before=FUTURE)) == ["users/10/c", "users/2/d"]


def test_keys_are_listed_by_when_they_were_written(store: BlobStore) -> None:
    store.put("users/3/x", b"x")
    assert list(store.keys("users/3", written_before=FUTURE)) == ["users/3/x"]
    assert list(store.keys("users/3", written_before=PAST)) == []
    assert store.discard_partial(written_before=FUTURE) == 0


def test_stores_under_other_prefixes_of_one_bucket_do_not_see_each_other(s3: S3Server) -> None:
    bucket = s3.new_bucket()
    one, two = (S3BlobStore(s3.client(), bucket=bucket, prefix=p) for p in ("one", "two"))
    one.put("users/1/a", b"1")
    with pytest.raises(BlobNotFound):
        two.get("users/1/a")
    two.delete_prefix("users")
    assert one.get("users/1/a") == b"1"


def test_an_abandoned_multipart_upload_is_discarded(s3: S3Server) -> None:
    bucket = s3.new_bucket()
    store = S3BlobStore(s3.client(), bucket=bucket, prefix="p")
    s3.client().create_multipart_upload(Bucket=bucket, Key="p/users/1/big")
    s3.client().create_multipart_upload(Bucket=bucket, Key="elsewhere/big")  # not the store's
    # (moto dates every upload 2010-11-10, so only the cutoff after it is checked here)
    assert store.discard_partial(written_before=FUTURE) == 1
    assert [u["Key"] for u in s3.client().list_multipart_uploads(Bucket=bucket)["Uploads"]] == [
        "elsewhere/big"
    ]


def test_the_settings_pick_the_store(s3: S3Server, tmp_path: Path) -> None:
    assert isinstance(blob_store_from(Settings(data_dir=tmp_path)), LocalBlobStore)
    chosen = blob_store_from(
        Settings(
            data_dir=tmp_path,
            blob_url=f"s3://{s3.new_bucket()}/mirada",
            blob_endpoint_url=s3.url,
            blob_region=REGION,
            blob_access_key_id=ACCESS_KEY,
            blob_secret_access_key=SECRET_KEY,
        )
    )
    assert isinstance(chosen, S3BlobStore) and chosen.prefix == "mirada/"
    chosen.put("users/1/a", b"kept")
    assert chosen.get("users/1/a") == b"kept"
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        blob_store_from(Settings(data_dir=tmp_path, blob_url="ftp://elsewhere/x"))


@pytest.fixture
def s3_app(s3: S3Server, tmp_path: Path, database_url: str, model_path: Path) -> Iterator[Flask]:
    settings = make_settings(
        tmp_path,
        database_url,
        model_path=model_path,
        blob_url=f"s3://{s3.new_bucket()}/mirada",
        blob_endpoint_url=s3.url,
        blob_access_key_id=ACCESS_KEY,
        blob_secret_access_key=SECRET_KEY,
    )
    with app_on(settings) as app:
        yield app


def test_the_web_keeps_photos_in_the_s3_store(s3_app: Flask, cat_jpeg: bytes) -> None:
    browser = Browser(s3_app, "s3@example.com")
    answer = browser.post(
        "/classify",
        {"photos": [(io.BytesIO(cat_jpeg), "cat.jpg")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert answer.status_code == 200, answer.json
    [result] = answer.json["results"]
    assert "cat" in result["predictions"][0]["label"]
    assert browser.get(result["image_url"]).data == cat_jpeg
    assert browser.get(result["thumbnail_url"]).data[:3] == b"\xff\xd8\xff"
    store = s3_app.extensions["mirada.blobs"]
    assert isinstance(store, S3BlobStore)
    assert len(list(store.keys("users", written_before=FUTURE))) == 2  # the photo, its thumbnail
    project_id = browser.digits_project("Digits", {0: "zero", 1: "one"}, 5)
    assert browser.train(project_id)["state"] == "succeeded"  # read back from the store

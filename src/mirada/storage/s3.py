"""Blobs as objects in an S3-compatible store (MinIO, Ceph, AWS S3): the scaled-out mode,
where the web, the workers and the inference replicas on other machines share them.

Each key is an object under the store's prefix. A PUT is atomic (a reader sees the old
object or the new one), so no write is ever partial; ``discard_partial`` aborts multipart
uploads left behind by other tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from mirada.storage.base import BlobNotFound, check_key

DELETE_BATCH = 1000  # the most one DeleteObjects call takes
MISSING = frozenset({"NoSuchKey", "404"})


class S3BlobStore:
    """Each key is the object ``prefix/key`` in ``bucket``, through a boto3 S3 ``client``."""

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                raise BlobNotFound(key) from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def delete_prefix(self, prefix: str) -> None:
        names = [name for name, _written in self._objects(self._name(prefix) + "/")]
        for start in range(0, len(names), DELETE_BATCH):
            batch = [{"Key": name} for name in names[start : start + DELETE_BATCH]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def keys(self, prefix: str, *, written_before: datetime) -> Iterator[str]:
        for name, written in self._objects(self._name(prefix) + "/"):
            if written < written_before:
                yield name[len(self.prefix) :]

    def discard_partial(self, *, written_before: datetime) -> int:
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        aborted = 0
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < written_before:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted

    def _objects(self, start: str) -> Iterator[tuple[str, datetime]]:
        """The names and last-written times of the objects whose names begin ``start``."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]

"""How the history pages scale: the first page and a deep page over many stored rows.

Usage: ``python benchmarks/history_pages.py [ROWS]`` (default 300,000). Fills a temporary
SQLite database with ROWS classifications of one user (and as many of another), then
times the page query (``services.classifications.history``) for the newest page and for
a page at the end of the history, following the keyset cursor. Prints one JSON document;
the ratio deep/first shows whether paging stays fast at any depth.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from mirada.config import Settings
from mirada.db import Classification, User
from mirada.db.app_session import db
from mirada.db.base import utcnow
from mirada.services.classifications import history
from mirada.web import create_app

REPEATS = 50


def _fill(rows: int) -> int:
    owner = User(email="owner@example.com", password_hash="")
    other = User(email="other@example.com", password_hash="")
    db.session.add_all([owner, other])
    db.session.commit()
    now = utcnow()
    template = {
        "created_at": now,
        "filename": "photo.jpg",
        "content_type": "image/jpeg",
        "image_key": "users/1/images/x",
        "thumbnail_key": "users/1/thumbnails/x",
        "width": 640,
        "height": 480,
        "model_name": "imagenet/efficientnet-lite0",
        "model_version": "bench",
        "top_label": "tabby",
        "top_score": 0.9,
        "predictions": [{"index": 281, "label": "tabby", "score": 0.9}],
        "confident": True,
    }
    batch = 10_000
    for start in range(0, rows, batch):
        count = min(batch, rows - start)
        values = [{**template, "user_id": (owner.id, other.id)[i % 2]} for i in range(2 * count)]
        db.session.execute(insert(Classification), values)
        db.session.commit()
    return owner.id


def _median_ms(call: object) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(rows: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(env="testing", data_dir=Path(folder)))
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            owner_id = _fill(rows)
            fill_s = time.perf_counter() - started
            user = db.session.get(User, owner_id)
            assert user is not None
            oldest = db.session.scalar(
                select(Classification.id)
                .where(Classification.user_id == owner_id)
                .order_by(Classification.id)
                .offset(30)
                .limit(1)
            )
            first_ms = _median_ms(lambda: history(session=db.session(), user=user))
            deep_ms = _median_ms(lambda: history(session=db.session(), user=user, before=oldest))
            db.session.remove()
            db.engine.dispose()
    return {
        "rows_per_user": rows,
        "users": 2,
        "fill_s": round(fill_s, 2),
        "first_page_ms": round(first_ms, 3),
        "last_page_ms": round(deep_ms, 3),
        "last_over_first": round(deep_ms / first_ms, 2),
        "database": "sqlite",
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000), indent=2))

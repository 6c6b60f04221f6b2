"""Without MIRADA_SECRET_KEY, the app signs cookies with a random key kept in its data folder."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from itsdangerous import BadSignature, URLSafeSerializer

from mirada.config import Settings
from mirada.secret_key import KEY_FILE_NAME, MIN_KEY_BITS, estimated_bits, load_or_create
from mirada.web import with_secret_key


def test_the_first_run_makes_a_private_random_key_that_later_runs_reuse(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    first = with_secret_key(Settings(data_dir=data_dir))
    second = with_secret_key(Settings(data_dir=data_dir))

    path = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret_key == second.secret_key == path.read_text().strip()
    assert estimated_bits(first.secret_key) >= MIN_KEY_BITS
    assert "dev-insecure-change-me" not in first.secret_key


def test_each_data_folder_gets_its_own_key(tmp_path: Path) -> None:
    assert load_or_create(tmp_path / "one") != load_or_create(tmp_path / "two")


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create(tmp_path), range(32)))

    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_an_explicit_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    settings = with_secret_key(Settings(data_dir=tmp_path, secret_key="explicit-" + "9" * 40))

    assert settings.secret_key == "explicit-" + "9" * 40
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_a_device_cookie_forged_with_the_old_default_key_is_refused(tmp_path: Path) -> None:
    """The attack: `make run` signed cookies with a published key, so anyone could forge
    the known-device cookie; now the key is the data folder's own."""
    forged = URLSafeSerializer("dev-insecure-change-me", salt="mirada.known-device").dumps(
        {"id": "attacker", "accounts": []}
    )
    real_key = with_secret_key(Settings(data_dir=tmp_path)).secret_key

    with pytest.raises(BadSignature):
        URLSafeSerializer(real_key, salt="mirada.known-device").loads(forged)

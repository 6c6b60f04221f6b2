"""The settings: production refuses guessable secret keys and a missing public URL;
database URLs and paths are normalised."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from mirada.config import Settings
from mirada.secret_key import MIN_KEY_BITS, estimated_bits


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MIRADA_* variable of the machine running the tests leaks into these settings."""
    for name in list(os.environ):
        if name.startswith("MIRADA_"):
            monkeypatch.delenv(name)


PUBLIC = {"base_url": "https://mirada.example.org"}


@pytest.mark.parametrize(
    "secret_key",
    [
        "",
        "x" * 31,
        "short",
        "dev-insecure-change-me",
        "a" * 32,
        "k" * 64,
        "0123456789abcdef" * 4,
        "abcdefghijklmnopqrstuvwxyz012345",
        "correct horse battery staple is my secret key",
        "qwertyuiopasdfghjklzxcvbnm1234567890",
        secrets.token_hex(8),
    ],
    ids=[
        "empty",
        "31-chars",
        "short",
        "old-default",
        "32-a",
        "64-k",
        "repeated-hex",
        "alphabet",
        "passphrase",
        "keyboard",
        "64-bit-random",
    ],
)
def test_production_refuses_a_missing_or_guessable_secret_key(secret_key: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(env="production", secret_key=secret_key, **PUBLIC)

    message = str(raised.value)
    assert "MIRADA_SECRET_KEY" in message
    assert "secrets.token_hex(32)" in message


def test_production_refuses_a_missing_secret_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIRADA_ENV", "production")
    monkeypatch.setenv("MIRADA_BASE_URL", PUBLIC["base_url"])

    with pytest.raises(ValidationError, match="MIRADA_SECRET_KEY must be set"):
        Settings()


@pytest.mark.parametrize(
    "make_key", [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32)]
)
def test_production_accepts_a_long_random_secret_key(
    monkeypatch: pytest.MonkeyPatch, make_key: Callable[[], str]
) -> None:
    key = make_key()
    monkeypatch.setenv("MIRADA_ENV", "production")
    monkeypatch.setenv("MIRADA_SECRET_KEY", key)
    monkeypatch.setenv("MIRADA_BASE_URL", PUBLIC["base_url"])

    settings = Settings()

    assert settings.env == "production"
    assert settings.secret_key == key
    assert estimated_bits(key) >= MIN_KEY_BITS


def test_the_estimate_sees_through_repeats_that_count_as_long() -> None:
    """The attack: 32 times ``a`` passed the old check, which counted characters only."""
    assert estimated_bits("a" * 32) < 16
    assert estimated_bits("0123456789abcdef" * 4) < 32
    assert estimated_bits(secrets.token_hex(32)) > 200


def test_production_refuses_to_build_links_from_the_host_header() -> None:
    """Without a public URL or a list of trusted hosts, links would follow the Host header."""
    key = secrets.token_hex(32)
    with pytest.raises(ValidationError, match=r"MIRADA_BASE_URL .* or MIRADA_TRUSTED_HOSTS"):
        Settings(env="production", secret_key=key)

    assert Settings(
        env="production", secret_key=key, trusted_hosts="mirada.example.org, .example.net"
    )
    listed = Settings(trusted_hosts=" a.example.org, ,b.example.org ").trusted_host_list
    assert listed == ["a.example.org", "b.example.org"]


@pytest.mark.parametrize("env", ["development", "testing"])
def test_other_modes_need_no_key(env: str) -> None:
    """Without a key the app makes one in the data folder (see test_secret_key)."""
    assert Settings(env=env).secret_key == ""  # type: ignore[arg-type]


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(env="staging")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.host:5432/mirada", "postgresql+psycopg://u:p@db.host:5432/mirada"),
        ("postgresql://u@db.host/mirada", "postgresql+psycopg://u@db.host/mirada"),
        ("postgresql+psycopg://u@db.host/mirada", "postgresql+psycopg://u@db.host/mirada"),
        ("sqlite:////var/lib/mirada/db.sqlite3", "sqlite:////var/lib/mirada/db.sqlite3"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_database_urls_are_normalised_to_the_psycopg_driver(given: str, expected: str) -> None:
    assert Settings(database_url=given).sqlalchemy_url == expected


def test_the_database_url_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRADA_DATABASE_URL", "postgres://u@h/db")

    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_without_a_database_url_a_sqlite_file_in_the_data_folder_is_used(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'mirada.sqlite3'}"


def test_the_default_data_folder_is_instance_resolved_to_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.resolved_data_dir == tmp_path.resolve() / "instance"
    assert settings.resolved_data_dir.is_absolute()
    assert (
        settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'instance' / 'mirada.sqlite3'}"
    )
    assert settings.resolved_model_path == (
        tmp_path.resolve() / "instance" / "models" / "efficientnet-lite0-int8.onnx"
    )


def test_the_data_folder_expands_the_home_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert Settings(data_dir=Path("~/mirada")).resolved_data_dir == tmp_path.resolve() / "mirada"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("login_failures_per_account", 0),
        ("login_failures_per_address", -1),
        ("login_window_s", 0),
        ("password_reset_max_age_s", 0),
        ("remember_me_days", 0),
        ("session_idle_hours", 0),
        ("proxy_count", -1),
        ("signups_per_address", 0),
        ("reset_requests_per_address", 0),
        ("reset_requests_per_account", 0),
        ("request_window_s", 0),
    ],
)
def test_limits_must_be_positive(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(**{name: value})  # type: ignore[arg-type]


def test_numbers_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRADA_LOGIN_FAILURES_PER_ACCOUNT", "7")
    monkeypatch.setenv("MIRADA_MAIL_USE_TLS", "true")

    settings = Settings()

    assert settings.login_failures_per_account == 7
    assert settings.mail_use_tls is True

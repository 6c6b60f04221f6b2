"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from mirada.services import passwords
from mirada.services.errors import ServiceError

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


def test_hashes_are_argon2id(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash


def test_hashes_are_salted(password_hash: str) -> None:
    assert passwords.hash_password(PASSWORD) != password_hash


def test_the_right_password_verifies(password_hash: str) -> None:
    assert passwords.verify_password(password_hash, PASSWORD) is True


@pytest.mark.parametrize("attempt", ["correct horse batterY", "", PASSWORD + " ", "x" * 1000])
def test_a_wrong_password_does_not_verify(password_hash: str, attempt: str) -> None:
    assert passwords.verify_password(password_hash, attempt) is False


def test_without_a_hash_nothing_verifies() -> None:
    """Unknown accounts get a dummy verification: same time spent, always False."""
    assert passwords.verify_password(None, PASSWORD) is False
    assert passwords.verify_password(None, "a password nobody has") is False
    assert passwords.verify_password("", "a password nobody has") is False


@pytest.mark.parametrize("broken", ["not a hash", "$argon2id$v=19$m=1,t=1,p=1$bad", "$2b$12$abc"])
def test_a_broken_hash_does_not_verify(broken: str) -> None:
    assert passwords.verify_password(broken, PASSWORD) is False


def test_fresh_hashes_need_no_rehash(password_hash: str) -> None:
    assert passwords.needs_rehash(password_hash) is False


def test_weaker_hashes_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

    assert passwords.needs_rehash(weak) is True
    assert passwords.verify_password(weak, PASSWORD) is True


def test_the_common_password_list_is_loaded() -> None:
    common = passwords.common_passwords()

    assert len(common) > 20_000
    assert {"password1234", "qwertyuiop", "password", "123456"} <= common


@pytest.mark.parametrize(
    "password",
    [
        "a" * passwords.MIN_LENGTH,
        "x" * passwords.MAX_LENGTH,
        PASSWORD,
        "contraseña segura ☃",
    ],
    ids=["min-length", "max-length", "passphrase", "unicode"],
)
def test_good_passwords_pass_the_policy(password: str) -> None:
    passwords.check_policy(password, email="ann@example.org")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "password_too_short"),
        ("a" * (passwords.MIN_LENGTH - 1), "password_too_short"),
        ("x" * (passwords.MAX_LENGTH + 1), "password_too_long"),
        ("password1234", "password_too_common"),
        ("QWERTYUIOP", "password_too_common"),
        ("ann@example.org", "password_too_common"),
        ("ANN@EXAMPLE.ORG", "password_too_common"),
    ],
)
def test_weak_passwords_fail_the_policy(password: str, code: str) -> None:
    with pytest.raises(ServiceError) as raised:
        passwords.check_policy(password, email="ann@example.org")

    assert raised.value.code == code
    assert raised.value.status == 400

"""The user account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mirada.db.base import Base, UTCDateTime, utcnow


class User(Base):
    """A person who signs in; ``email`` is stored lower-cased, so unique whatever its case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    # An IANA name such as "Europe/Madrid"; None follows the browser's zone.
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set by an administrator; None: the defaults from the settings.
    storage_limit_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    photo_limit: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def name(self) -> str:
        """What the pages call this user."""
        return self.display_name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

"""The database: one SQLAlchemy object and the typed models, one module per aggregate."""

from flask_sqlalchemy import SQLAlchemy

from mirada.db.base import Base

db = SQLAlchemy(model_class=Base)

from mirada.db.auth import (  # noqa: E402
    AuthThrottle,
    PasswordResetToken,
    SignupToken,
    UserSession,
)
from mirada.db.classification import Classification  # noqa: E402
from mirada.db.job import Job  # noqa: E402
from mirada.db.project import Example, ModelVersion, Project, ProjectClass  # noqa: E402
from mirada.db.user import User  # noqa: E402

__all__ = [
    "AuthThrottle",
    "Base",
    "Classification",
    "Example",
    "Job",
    "ModelVersion",
    "PasswordResetToken",
    "Project",
    "ProjectClass",
    "SignupToken",
    "User",
    "UserSession",
    "db",
]

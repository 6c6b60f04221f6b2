"""The typed models, one module per aggregate (the app's bound ``db`` is in ``app_session``)."""

from mirada.db.auth import (
    AuthThrottle,
    PasswordResetToken,
    SignupToken,
    UserSession,
)
from mirada.db.base import Base
from mirada.db.classification import Classification
from mirada.db.job import Job
from mirada.db.project import Example, ModelVersion, Project, ProjectClass
from mirada.db.user import User

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
]

"""Rows the job tests start from, made with a plain session (no Flask app)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mirada.db import Project, User


class NotedQueue:
    """A queue that notes the job ids it is given (``in_process`` as asked)."""

    def __init__(self, *, in_process: bool = True) -> None:
        self.in_process = in_process
        self.job_ids: list[int] = []

    def enqueue(self, job_id: int) -> None:
        self.job_ids.append(job_id)


def make_project(session: Session, email: str = "ann@example.org", name: str = "Digits") -> Project:
    """A user with one project, committed."""
    user = User(email=email, password_hash="x")
    session.add(user)
    session.flush()
    project = Project(user_id=user.id, name=name)
    session.add(project)
    session.commit()
    return project

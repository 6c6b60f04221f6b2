"""The contracts of running jobs: the queue a door hands job ids to, and what a job
function is given (``JobContext``) and may raise (``JobFailed``).

The job functions themselves live with the services; the doors (``mirada.runtime``)
give the queue a registry of them (``kind -> function``), so that nothing here imports
the business code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mirada.config import Settings
    from mirada.inference import Inference
    from mirada.storage import BlobStore
    from mirada.vision.budget import DecodeBudget

Progress = Callable[[float, str], None]


class JobQueue(Protocol):
    """Runs a queued job by its id somewhere, some time soon.

    ``in_process``: queued jobs wait in this process's memory (a thread pool), so they are
    lost with it; a broker's queue outlives the process that submitted to it.
    """

    in_process: bool

    def enqueue(self, job_id: int) -> None: ...


class JobFailed(Exception):
    """A job that cannot finish, for a reason a person can be told (``code`` and ``params``)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Resources:
    """What a job may use: the session of its transaction and the process's adapters."""

    session: Session
    settings: Settings
    blobs: BlobStore
    inference: Inference
    budget: DecodeBudget


@dataclass(frozen=True)
class JobContext:
    """One run of one job: which job, what it may use, and how it reports progress.

    ``progress(fraction, stage)`` is also the job's checkpoint: the runner commits what the
    job wrote so far (a job killed later keeps it) and records a heartbeat.
    """

    job_id: int
    project_id: int
    kind: str
    resources: Resources
    progress: Progress

    @property
    def session(self) -> Session:
        return self.resources.session

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def blobs(self) -> BlobStore:
        return self.resources.blobs

    @property
    def inference(self) -> Inference:
        return self.resources.inference

    @property
    def budget(self) -> DecodeBudget:
        return self.resources.budget


JobFunction = Callable[[JobContext], dict[str, Any]]
Registry = Mapping[str, JobFunction]

"""One typed settings object, read from ``MIRADA_*`` environment variables.

The defaults are safe for the embedded mode (a SQLite file and a data folder
under ``./instance``; without ``MIRADA_SECRET_KEY`` the app makes a random key
there). In production mode the settings refuse a missing or guessable secret
key, and a server that does not know its public address.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mirada.secret_key import secret_key_weakness

SignupMode = Literal["open", "verified", "invite", "closed"]
ModelPrecision = Literal["fp32", "int8"]


class ModelSettings(BaseSettings):
    """What every process that runs or calls the model reads: the web, the workers and
    the inference service alike."""

    model_config = SettingsConfigDict(env_prefix="MIRADA_", extra="ignore")

    data_dir: Path = Path("instance")
    model_path: Path | None = None  # default: the data folder's exported model
    model_precision: ModelPrecision = "int8"  # the copy `mirada model quantize` makes; or fp32
    inference_threads: int = Field(default=0, ge=0)  # 0: onnxruntime decides
    inference_token: str = ""  # when set, every call to the inference service must carry it

    # What an image may be.
    max_upload_bytes: int = Field(default=20_000_000, gt=0)
    max_image_pixels: int = Field(default=40_000_000, gt=0)
    max_jpeg_pixels: int = Field(default=120_000_000, gt=0)  # JPEGs decode at 1/2 to 1/8

    # Answers already given: the same bytes and model are not run twice.
    redis_url: str = ""  # shared cache (and more) in Redis; empty: in-process only
    prediction_cache_size: int = Field(default=4096, ge=0)  # entries in-process; 0: no cache
    prediction_cache_ttl_s: int = Field(default=86400, gt=0)  # how long Redis keeps one

    @cached_property
    def resolved_data_dir(self) -> Path:
        """The data folder as an absolute path."""
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_model_path(self) -> Path:
        """Where the exported ONNX backbone of the chosen precision lives."""
        if self.model_path is not None:
            return self.model_path.expanduser().resolve()
        suffix = "" if self.model_precision == "fp32" else f"-{self.model_precision}"
        return self.resolved_data_dir / "models" / f"efficientnet-lite0{suffix}.onnx"


class Settings(ModelSettings):
    """Everything the web app, the CLI and the job workers can be configured with."""

    env: Literal["development", "production", "testing"] = "development"
    secret_key: str = ""  # empty: a random key kept in the data folder (not in production)
    database_url: str = ""
    base_url: str = ""  # the public URL, used in e-mailed links
    trusted_hosts: str = ""  # comma-separated Host names the server answers to; empty: any
    proxy_count: int = Field(default=0, ge=0)  # reverse proxies to trust for X-Forwarded-*

    # Database faults cost seconds, not threads.
    db_connect_timeout_s: int = Field(default=3, ge=2)  # libpq's least is 2
    db_statement_timeout_s: float = Field(default=15.0, gt=0)  # also the client-side deadline
    db_lock_timeout_s: float = Field(default=5.0, gt=0)  # also SQLite's busy timeout
    db_pool_timeout_s: float = Field(default=5.0, gt=0)  # waiting for a free connection
    db_retry_after_s: int = Field(default=5, gt=0)  # Retry-After while the database is away

    # Serving (``mirada serve``): slow clients cost a socket, never a thread.
    request_read_grace_s: float = Field(default=10.0, gt=0)  # then the request must keep pace
    request_min_rate_bytes_s: float = Field(default=1000.0, ge=0)  # average, headers and body
    max_connections_per_worker: int = Field(default=1000, gt=0)
    max_connections_per_address: int = Field(default=100, gt=0)  # per worker, one client
    worker_max_rss_mb: int = Field(default=1536, ge=0)  # a worker grown past it is replaced; 0: off

    # Mail: SMTP when ``mail_server`` is set, otherwise written to the log.
    mail_server: str = ""
    mail_port: int = 25
    mail_username: str = ""
    mail_password: str = ""
    mail_use_tls: bool = False
    mail_use_ssl: bool = False
    mail_sender: str = "Mirada <no-reply@localhost>"

    # Accounts.
    password_reset_max_age_s: int = Field(default=3600, gt=0)
    remember_me_days: int = Field(default=30, gt=0)
    session_idle_hours: int = Field(default=12, gt=0)
    login_failures_per_account: int = Field(default=5, gt=0)
    login_failures_per_address: int = Field(default=20, gt=0)
    login_window_s: int = Field(default=900, gt=0)
    signup: SignupMode = "open"
    signup_link_max_age_s: int = Field(default=86400, gt=0)
    invitation_max_age_s: int = Field(default=7 * 86400, gt=0)
    signups_per_address: int = Field(default=20, gt=0)
    reset_requests_per_address: int = Field(default=10, gt=0)
    reset_requests_per_account: int = Field(default=3, gt=0)
    request_window_s: int = Field(default=3600, gt=0)

    # Decoding photos in this process.
    decode_budget_mb: int = Field(default=512, gt=0)  # decoded pixels held at once, per process
    decode_wait_s: float = Field(default=5.0, gt=0)  # a request's wait for that budget

    # Inference: in this process, or the `mirada inference` service(s) at these URLs.
    inference_url: str = ""  # comma-separated base URLs of service replicas; empty: in-process
    inference_timeout_s: float = Field(default=30.0, gt=0)  # one call, all retries included

    # Blobs: the data folder, or an S3-compatible store (s3://bucket/prefix) shared by every
    # machine; credentials from these settings, else boto3's own (AWS_* variables, files).
    blob_url: str = ""
    blob_endpoint_url: str = ""  # e.g. http://minio:9000; empty: AWS S3
    blob_region: str = "us-east-1"
    blob_access_key_id: str = ""
    blob_secret_access_key: str = ""

    # Projects, training and background jobs.
    job_workers: int = Field(default=1, ge=1)
    job_heartbeat_timeout_s: int = Field(default=120, gt=0)
    max_archive_entries: int = Field(default=5000, gt=0)
    max_archive_upload_bytes: int = Field(default=200_000_000, gt=0)  # a zip as sent
    max_archive_bytes: int = Field(default=300_000_000, gt=0)  # a zip once unpacked
    max_photos_upload_bytes: int = Field(default=200_000_000, gt=0)  # photos sent in one form

    # What each user may keep (an administrator can set other limits per user).
    user_storage_bytes: int = Field(default=10_000_000_000, gt=0)
    user_max_photos: int = Field(default=100_000, gt=0)
    orphan_grace_s: int = Field(default=6 * 3600, gt=0)  # files younger than this are not swept

    @model_validator(mode="after")
    def _refuse_weak_production_settings(self) -> Settings:
        if self.env != "production":
            return self
        weakness = secret_key_weakness(self.secret_key)
        if weakness:
            raise ValueError(
                f"MIRADA_SECRET_KEY {weakness} in production; make one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if not self.base_url and not self.trusted_host_list:
            raise ValueError(
                "MIRADA_BASE_URL (the public URL, e.g. https://mirada.example.org) or "
                "MIRADA_TRUSTED_HOSTS must be set in production, so that e-mailed links "
                "never follow a request's Host header"
            )
        return self

    @property
    def trusted_host_list(self) -> list[str]:
        """The Host names the server answers to; empty when any is accepted."""
        return [host.strip() for host in self.trusted_hosts.split(",") if host.strip()]

    @property
    def inference_urls(self) -> list[str]:
        """The inference service replicas to call; empty for in-process inference."""
        return [url.strip().rstrip("/") for url in self.inference_url.split(",") if url.strip()]

    @property
    def unpack_dir(self) -> Path:
        """Where zip imports are unpacked while they run (``mirada storage sweep`` clears
        what a killed process left)."""
        return self.resolved_data_dir / "tmp"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL; a SQLite file in the data folder when unset."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql://" + url.removeprefix("postgres://")
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{self.resolved_data_dir / 'mirada.sqlite3'}"

"""What travels between the server and a worker: a job, and how it ended.

Plain picklable dataclasses with no heavy imports, so the server never has to load
numpy or the separation methods itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["JobFailure", "JobResult", "JobSpec"]


@dataclass(frozen=True)
class JobSpec:
    """One separation job as a worker receives it.

    ``input_path`` is the stored upload; stems are written into ``out_dir`` as
    ``foreground.<fmt>`` and ``background.<fmt>``.
    """

    job_id: str
    input_path: str
    out_dir: str
    method: str | None = None
    output_format: str = "flac"
    max_duration: float = 3600.0
    min_duration: float = 0.0
    max_bytes: int = 2 * 1024**3
    extra_methods: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobResult:
    """A finished separation: where the stems are and how well they add up."""

    method: str
    files: dict[str, str]
    sample_rate: int
    channels: int
    frames: int
    residual_dbfs: float
    residual_rel_db: float
    elapsed: float
    clipped_samples: int = 0
    method_note: str | None = None


@dataclass(frozen=True)
class JobFailure:
    """A job that ended without stems; ``reason`` is a cloud ``exception_reason``."""

    reason: str
    message: str
    status: str = "ERROR"

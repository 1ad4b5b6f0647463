"""The engine's HTTP vocabulary: answer models, the submission form, documented errors.

The models are both the validation and the OpenAPI document. The submission's
multipart body is read as a stream (never parsed whole by FastAPI), so it is
described for the document by :class:`SubmitForm` through the route's
``openapi_extra``; the one thing only known at run time, the method names, is
added by :func:`with_method_names`.

Examples
--------
>>> StatusAnswer(status="PENDING", queue_position=1, queue_length=3).queue_position
1
>>> sorted(SUBMIT_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"])
['audio_file', 'folder_id', 'format', 'media_file', 'method', 'project_description', 'project_name']
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from ._lossless import StemFormat
from ._upload import FILE_FIELDS

__all__ = [
    "ERRORS",
    "FILE_RESPONSES",
    "SUBMIT_BODY",
    "SUBMIT_ERRORS",
    "EngineInfo",
    "ResultAnswer",
    "ResultsRequest",
    "StatusAnswer",
    "SubmitAnswer",
    "SubmitFields",
    "SubmitForm",
    "TaskList",
    "with_method_names",
]

SUBMIT_PATH = "/apis/audio-separation"


# -- answers --------------------------------------------------------------------------------


class SubmitAnswer(BaseModel):
    task_id: str


class StatusAnswer(BaseModel):
    """The cloud's four fields, then the engine's optional extras."""

    status: str = Field(description="PENDING, SUCCESS, ERROR or TIMEOUT")
    run_id: int | None = None
    exception_reason: str | None = None
    message: str | None = None
    progress: float | None = Field(None, ge=0, le=100, description="engine extra: percent done")
    queue_position: int | None = Field(
        None, ge=1, description="engine extra: place in the queue, 1 = next; null when not queued"
    )
    queue_length: int | None = Field(
        None, ge=0, description="engine extra: jobs waiting for a worker; null when not queued"
    )
    method: str | None = Field(None, description="engine extra: separation method used")
    residual_db: float | None = Field(
        None, description="engine extra: RMS of original − (foreground + background), dBFS"
    )
    foreground_audio_url: str | None = None
    background_audio_url: str | None = None
    foreground_url: str | None = Field(
        None, description="the same as foreground_audio_url, under the seed document's name"
    )
    background_url: str | None = Field(
        None, description="the same as background_audio_url, under the seed document's name"
    )


class ResultAnswer(BaseModel):
    foreground_audio_url: str
    background_audio_url: str


class ResultsRequest(BaseModel):
    run_ids: list[StrictInt] = Field(max_length=1000)


class KeyLoad(BaseModel):
    queued: int
    running: int
    finished: int


class EngineInfo(BaseModel):
    engine: str
    version: str
    methods: list[str]
    default_method: str | None
    workers: int
    queued: int
    running: int
    max_queue: int
    max_duration: float
    max_bytes: int
    result_ttl: float
    max_jobs_per_key: int | None = None
    key_name: str = Field(description="the name this engine knows the caller's key by")
    keys: dict[str, KeyLoad] | None = Field(None, description="tasks per key name (admin key only)")


class TaskLine(BaseModel):
    task_id: str
    status: str
    run_id: int | None
    method: str | None
    created: float
    finished: float | None
    owner: str


class TaskList(BaseModel):
    tasks: list[TaskLine]


# -- the submission form ----------------------------------------------------------------------


class SubmitFields(BaseModel):
    """The submission's text fields, validated once the upload has streamed in."""

    model_config = ConfigDict(extra="ignore")

    project_name: str | None = None
    project_description: str | None = None
    folder_id: int | None = None
    method: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="engine extra")
    format: StemFormat | None = None


class SubmitForm(SubmitFields):
    """A submission: the audio (``media_file``, or its older name ``audio_file``) and options."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": [name]} for name in FILE_FIELDS]}
    )

    media_file: bytes | None = Field(None, description="the audio to separate")
    audio_file: bytes | None = Field(None, description="older name of media_file")


class _FormJsonSchema(GenerateJsonSchema):
    """A form value is text or absent, never null: document ``X | None = None`` as ``X``."""

    def nullable_schema(self, schema: Any) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": SubmitForm.model_json_schema(schema_generator=_FormJsonSchema)
            }
        },
    }
}


def with_method_names(doc: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Add the method names a submission may ask for to the OpenAPI document *doc*.

    They come from the methods package, imported lazily, so they are only known once
    the engine runs. The request body is copied first: FastAPI's document shares it
    with :data:`SUBMIT_BODY`, which every app uses.
    """
    operation = doc["paths"][SUBMIT_PATH]["post"]
    operation["requestBody"] = body = copy.deepcopy(operation["requestBody"])
    body["content"]["multipart/form-data"]["schema"]["properties"]["method"]["enum"] = names
    return doc


# -- documented errors ------------------------------------------------------------------------

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be parsed"},
    401: {"description": "API key missing or wrong"},
    404: {"description": "Not found"},
    422: {"description": "Validation error"},
}
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "run_id already in use"},
    429: {"description": "Queue full, or the key's job limit reached; retry after Retry-After"},
}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"audio/flac": {}, "audio/wav": {}}},
    206: {"description": "Partial content (Range)"},
    403: {"description": "The link's signature is missing, altered or expired"},
    404: {"description": "Unknown or expired file"},
    416: {"description": "Range not satisfiable"},
}

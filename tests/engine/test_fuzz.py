"""Property-based fuzzing of the live engine from its own OpenAPI document (schemathesis).

Bounded: a fixed seed, 15 examples per operation, one worker, loopback only. The
checks include "no 5xx", answers matching the documented status codes, content
types and schemas, valid requests accepted, auth not ignored. ("negative_data_rejection"
is left out: in a multipart form every value is text, so "5.0e16" is a valid
``project_description`` although the generator meant it as a number.)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from .conftest import KEY

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "ignored_auth",
    ]
)


@pytest.mark.slow
def test_fuzzing_from_openapi_finds_no_failures(engine, tmp_path: Path):
    cli = shutil.which("schemathesis") or shutil.which("st")
    assert cli, "schemathesis is a test dependency: pip install schemathesis"
    done = subprocess.run(
        [
            *(cli, "run", f"{engine.base_url}/openapi.json", "--origin", engine.origin),
            *("-H", f"x-api-key: {KEY}", "--checks", CHECKS, "--workers", "1"),
            *("--max-examples", "15", "--seed", "20261201"),
            *("--phases", "examples,coverage,fuzzing", "--warnings", "off"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # and the server is still fine afterwards
    info = httpx.get(f"{engine.base_url}/engine", headers={"x-api-key": KEY})
    assert info.status_code == 200

"""The engine's OpenAPI document, built without a server."""

from __future__ import annotations

from typing import Any

from camb_notebook.engine import EngineConfig, create_app
from camb_notebook.engine._schema import SUBMIT_BODY, with_method_names


def _doc() -> dict[str, Any]:
    return create_app(EngineConfig()).openapi()


def _form(doc: dict[str, Any]) -> dict[str, Any]:
    body = doc["paths"]["/apis/audio-separation"]["post"]["requestBody"]
    return body["content"]["multipart/form-data"]["schema"]


def test_the_form_is_documented_as_a_form_can_send_it():
    form = _form(_doc())
    props = form["properties"]
    assert props["media_file"]["format"] == props["audio_file"]["format"] == "binary"
    assert props["folder_id"]["type"] == "integer"
    assert props["format"]["enum"] == ["flac", "wav"]
    # A form value is text or absent: no field is documented as possibly null.
    assert all("default" not in p and "anyOf" not in p for p in props.values()), props
    assert form["anyOf"] == [{"required": ["media_file"]}, {"required": ["audio_file"]}]


def test_method_names_stay_with_their_app():
    first, second = create_app(EngineConfig()), create_app(EngineConfig())
    filled = with_method_names(first.openapi(), ["only-first"])
    assert _form(filled)["properties"]["method"]["enum"] == ["only-first"]
    assert "enum" not in _form(second.openapi())["properties"]["method"]
    assert (
        "enum"
        not in _form({"paths": {"/apis/audio-separation": {"post": SUBMIT_BODY}}})["properties"][
            "method"
        ]
    )


def test_queue_state_is_documented():
    props = _doc()["components"]["schemas"]["StatusAnswer"]["properties"]
    assert props["queue_position"]["anyOf"][0] == {"type": "integer", "minimum": 1}
    assert props["queue_length"]["anyOf"][0] == {"type": "integer", "minimum": 0}

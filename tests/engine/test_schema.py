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


def test_the_form_generator_drops_null_defaults_only():
    """Generated at test time (``SUBMIT_BODY`` is built at import): ``X | None = None`` is
    documented as ``X``; a real default and a required field keep their usual schema."""
    from pydantic import BaseModel

    from camb_notebook.engine._schema import SubmitForm, _FormJsonSchema

    class Form(BaseModel):
        maybe: int | None = None
        named: str = "x"
        needed: int

    schema = Form.model_json_schema(schema_generator=_FormJsonSchema)
    assert schema["properties"] == {
        "maybe": {"title": "Maybe", "type": "integer"},
        "named": {"default": "x", "title": "Named", "type": "string"},
        "needed": {"title": "Needed", "type": "integer"},
    }
    body = SUBMIT_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert SubmitForm.model_json_schema(schema_generator=_FormJsonSchema) == body


def test_method_names_never_reach_the_shared_body():
    """The operation in a document is a copy of ``SUBMIT_BODY`` at most one level deep: the
    names go into a private copy of the whole request body."""
    doc = {"paths": {"/apis/audio-separation": {"post": dict(SUBMIT_BODY)}}}
    filled = with_method_names(doc, ["mine"])
    assert _form(filled)["properties"]["method"]["enum"] == ["mine"]
    shared = SUBMIT_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "enum" not in shared["properties"]["method"]

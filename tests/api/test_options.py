"""The options of ``separate``: one definition, typed keywords, and ``on_validated``."""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from camb_notebook import AudioFormatError, CancelledError
from camb_notebook.api import (
    AsyncClient,
    BatchKwargs,
    Client,
    SeparateKwargs,
    SeparateOptions,
    TaskStore,
)
from camb_notebook.audio import AudioInfo
from tests.emulator import Emulator

from .conftest import FAST, async_client, write_wav

MakeClient = Callable[..., Client]


def _annotations(typed_dict: type) -> dict[str, str]:
    # With postponed annotations, TypedDict keeps each type as a ForwardRef of its text.
    hints = typed_dict.__annotations__
    return {k: getattr(v, "__forward_arg__", v) for k, v in hints.items()}


def test_the_keyword_twins_match_the_dataclass() -> None:
    fields = {f.name: f.type for f in dataclasses.fields(SeparateOptions)}
    assert _annotations(SeparateKwargs) == fields
    assert _annotations(BatchKwargs) == {k: v for k, v in fields.items() if k != "on_progress"}
    assert SeparateKwargs.__required_keys__ == frozenset()  # every option may be left out


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_separate_takes_the_options_as_typed_keywords(cls: type) -> None:
    for method, keywords in ((cls.separate, SeparateKwargs), (cls.separate_many, BatchKwargs)):
        # For type checkers: **options: Unpack[...] ...
        assert method.__annotations__["options"] == f"Unpack[{keywords.__name__}]"
        # ... and for help() and Jupyter: every option, with its type and default.
        shown = inspect.signature(method).parameters
        for field in dataclasses.fields(SeparateOptions):
            if field.name in keywords.__annotations__:
                param = shown[field.name]
                assert param.kind is param.KEYWORD_ONLY, (method, field.name)
                assert (param.default, param.annotation) == (field.default, field.type)
        assert "options" not in shown
    assert "reuse: 'bool' = True" in str(inspect.signature(cls.separate))
    assert "SeparateOptions" in (inspect.getdoc(cls.separate) or "")


def test_an_unknown_option_is_named_before_anything_happens(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    with pytest.raises(TypeError, match=r"'metod'; its options are out_dir, reuse, .*method"):
        client.separate(wav, metod="repet")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'metod'"):
        client.separate_many([wav], metod="repet")  # type: ignore[call-arg]
    assert emulator.requests == []


def test_on_validated_sees_the_probe_once_before_upload_or_reuse(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    seen: list[tuple[AudioInfo, int]] = []

    def on_validated(info: AudioInfo) -> None:
        seen.append((info, emulator.submissions))

    first = client.separate(wav, on_validated=on_validated)
    again = client.separate(wav, on_validated=on_validated)
    assert again.reused and emulator.submissions == 1
    assert [submitted for _, submitted in seen] == [0, 1]  # called before the upload
    info = seen[0][0]
    assert info.path == first.original == wav.resolve()
    assert (info.format, info.channels, info.duration) == ("wav", 2, 1.0)


def test_on_validated_is_not_called_for_a_bad_file(client: Client, tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("these are not audio samples")
    seen: list[AudioInfo] = []
    with pytest.raises(AudioFormatError):
        client.separate(fake, on_validated=seen.append)
    assert seen == []


@pytest.mark.anyio
async def test_async_on_validated_may_be_a_coroutine(
    emulator: Emulator, store: TaskStore, wav: Path
) -> None:
    seen: list[AudioInfo] = []

    async def on_validated(info: AudioInfo) -> None:
        seen.append(info)

    async with async_client(emulator, store) as client:
        results = await client.separate_many([wav], on_validated=on_validated)
    assert [info.path for info in seen] == [wav.resolve()] == [r.original for r in results]  # type: ignore[union-attr]


def test_separate_many_options_reach_every_clip(
    client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    paths = [write_wav(tmp_path / f"c{i}.wav", 0.4 + 0.1 * i) for i in range(3)]
    seen: list[Path] = []
    results = client.separate_many(
        paths,
        concurrency=2,
        method="m",
        project_name="p",
        on_validated=lambda i: seen.append(i.path),
    )
    assert sorted(seen) == sorted(p.resolve() for p in paths)
    assert all(r.method == "m" for r in results)  # type: ignore[union-attr]
    assert emulator.last_form == {"project_name": "p", "method": "m"}


def test_separate_many_honours_the_callers_cancel(store: TaskStore, tmp_path: Path) -> None:
    paths = [write_wav(tmp_path / f"c{i}.wav", 0.5 + 0.1 * i) for i in range(2)]
    cancel = threading.Event()
    with (
        Emulator(pending_polls=10_000) as emu,
        Client(emu.api_key, emu.base_url, store=store, **FAST) as client,
    ):
        threading.Timer(0.3, cancel.set).start()
        with pytest.raises(CancelledError, match="cancelled by the caller"):
            client.separate_many(paths, concurrency=2, cancel=cancel, timeout=60)
        assert emu.submissions == 2  # both were waiting when the caller cancelled

"""Mutation testing with mutmut: does a test fail when the code is broken on purpose?

Runs mutmut (3.x) on one module at a time, each with only the tests that cover it, and writes
the result table and the surviving mutants into ``docs/mutation.md``::

    python scripts/mutate.py                          # every module listed in TARGETS
    python scripts/mutate.py camb_notebook/api/_retry.py
    python scripts/mutate.py --list                   # the modules and their tests
    python scripts/mutate.py --jobs 1 MODULE          # mutants tested at once (default 2)

Each module is mutated in a fresh copy of the package and the tests under
``build/mutation/<module>/`` (so the working tree is never touched, and ``mutmut show NAME``
there prints any mutant). Not part of the default test run: it takes minutes per module.

A mutant survives when every test passes with it in place. Each survivor kept on purpose has
its reason in ``scripts/mutation_survivors.toml`` (why it is equivalent or harmless); a survivor
without one is listed as *unexplained* and the command exits with status 1, as it does when a
module kills fewer than ``THRESHOLD`` of its mutants.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "mutation"
DOC = ROOT / "docs" / "mutation.md"
SURVIVORS = ROOT / "scripts" / "mutation_survivors.toml"
THRESHOLD = 0.85

#: mutmut's exit codes for a mutant, by what they mean here. A timeout or a crash is a
#: detected mutant (the tests did not pass); "no tests" means no selected test calls the code.
KILLED = {1, 3, -24, 24, 152, 255, 36, -11, -9, 37}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass(frozen=True)
class Target:
    """A module to mutate and the tests that must notice."""

    path: str
    tests: tuple[str, ...]
    #: Only these functions (mutmut's names, e.g. ``xǁCoreǁwait``); empty = the whole module.
    functions: tuple[str, ...] = ()
    note: str = ""

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    @property
    def slug(self) -> str:
        return self.module.replace("camb_notebook.", "").replace(".", "-")

    @property
    def patterns(self) -> list[str]:
        names = self.functions or ("*",)
        return [f"{self.module}.{name}__mutmut_*" for name in names]


def _doctests(module: str) -> str:
    return f"tests/test_docstrings.py::test_docstring_examples[{module}]"


TARGETS: tuple[Target, ...] = (
    Target(
        "camb_notebook/api/_retry.py",
        ("tests/api/test_retry.py", _doctests("camb_notebook.api._retry")),
    ),
    Target(
        "camb_notebook/api/_parse.py",
        ("tests/api/test_parse.py", _doctests("camb_notebook.api._parse")),
    ),
    Target(
        "camb_notebook/api/_store.py",
        ("tests/api/test_store.py", _doctests("camb_notebook.api._store")),
    ),
    Target(
        "camb_notebook/api/_core.py",
        ("tests/api/test_core.py",),
        functions=("xǁCoreǁ__init__", "xǁCoreǁwait"),
        note="the polling rules: `Core.__init__` (interval checks) and `Core.wait`",
    ),
    Target(
        "camb_notebook/engine/_submit.py",
        ("tests/engine/test_submit.py", "tests/engine/test_validation.py"),
    ),
    Target(
        "camb_notebook/engine/_upload.py",
        ("tests/engine/test_upload.py", _doctests("camb_notebook.engine._upload")),
    ),
    Target(
        "camb_notebook/engine/_schema.py",
        ("tests/engine/test_schema.py", "tests/engine/test_submit.py"),
    ),
    Target(
        "camb_notebook/audio/_probe.py",
        ("tests/audio/test_probe.py", _doctests("camb_notebook.audio._probe")),
    ),
    Target(
        "camb_notebook/audio/_stems.py",
        ("tests/audio/test_stems.py", _doctests("camb_notebook.audio._stems")),
    ),
    Target(
        "camb_notebook/methods/_wiener.py",
        (
            "tests/methods/test_dsp.py",
            "tests/methods/test_quality.py::test_each_spleeter_step_keeps_its_quality",
        ),
    ),
    Target(
        "camb_notebook/methods/_masks.py",
        (
            "tests/methods/test_masks.py",
            "tests/methods/test_dsp.py",
            _doctests("camb_notebook.methods._masks"),
        ),
    ),
    Target(
        "camb_notebook/methods/repet.py",
        (
            "tests/methods/test_repet.py",
            # The median network is a DSP building block: its test is with the others.
            "tests/methods/test_dsp.py::test_median_network_equals_numpy_median",
            "tests/methods/test_quality.py::test_repet_keeps_its_quality",
        ),
    ),
    Target(
        "camb_notebook/methods/spleeter.py",
        ("tests/methods/test_spleeter.py", "tests/methods/test_quality.py"),
        functions=(
            "xǁSpleeterConfigǁ__post_init__",
            "xǁSpleeterMethodǁ_ratio_masks",
            "xǁSpleeterMethodǁ_stems",
            "x__ratio_masks",
            "x__edge_share",
        ),
        note="the post-processing: the config checks, ratio masks, the Wiener step per bin "
        "chunk and the high-band rules",
    ),
    Target(
        "camb_notebook/audio/_formats.py",
        (
            "tests/audio/test_formats.py",
            "tests/audio/test_probe.py",
            _doctests("camb_notebook.audio._formats"),
        ),
    ),
)


@dataclass
class Outcome:
    target: Target
    counts: dict[str, int] = field(default_factory=dict)
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (name, diff)
    seconds: float = 0.0

    @property
    def mutants(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float:
        return self.counts.get("killed", 0) / self.mutants if self.mutants else 0.0


def _prepare(target: Target) -> Path:
    """A fresh copy of the package and tests, with the module's mutmut settings."""
    work = BUILD / target.slug
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "camb_notebook", work / "camb_notebook", ignore=skip)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=skip)
    # Some quality guards reuse the benchmarks' signals (tests/methods/test_quality.py).
    shutil.copytree(ROOT / "benchmarks", work / "benchmarks", ignore=skip)
    # The notebooks are not part of a mutation run: drop nbval's options and the plugin.
    pyproject = re.sub(
        r"^addopts = .*$",
        'addopts = "-ra --strict-markers -p no:nbval"',
        (ROOT / "pyproject.toml").read_text(),
        count=1,
        flags=re.M,
    )
    settings = {
        "source_paths": ["camb_notebook"],
        "only_mutate": [target.path],
        "pytest_add_cli_args_test_selection": list(target.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-m", "not browser and not slow"],
        "use_git_change_detection": False,
        # The mutants' copy is all the tests import (PYTHONPATH): bring the benchmarks along.
        "also_copy": ["benchmarks"],
        # Log lines say what happens; their wording is not behaviour a test should pin.
        "do_not_mutate_patterns": [r"\blog\.(debug|info|warning|error|exception)\("],
    }
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    (work / "pyproject.toml").write_text(pyproject + "\n".join(lines) + "\n")
    # mutmut fills mutants/ itself; it must exist before Python starts, or the PYTHONPATH
    # entry below is cached as "nothing here" and the tests import the installed package.
    (work / "mutants").mkdir()
    return work


def _run(target: Target, jobs: int) -> Outcome:
    work = _prepare(target)
    env = dict(os.environ)
    # Everything the tests import, in this process and in the ones they start, is the copy.
    env["PYTHONPATH"] = str(work / "mutants")
    started = time.monotonic()
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)]
    print(f"== {target.path}: {' '.join(target.tests)}", flush=True)
    proc = subprocess.run(
        [*command, *target.patterns], cwd=work, env=env, capture_output=True, text=True
    )
    log = work / "mutmut.log"
    log.write_text(proc.stdout + proc.stderr)
    meta = work / "mutants" / (target.path + ".meta")
    if proc.returncode != 0 or not meta.exists():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise SystemExit(f"mutmut failed on {target.path} (log: {log}):\n{tail}")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    outcome = Outcome(target, seconds=time.monotonic() - started)
    unkilled = []
    for name, code in sorted(codes.items(), key=lambda kv: _natural(kv[0])):
        if not any(fnmatch(name, p) for p in target.patterns):
            continue
        kind = (
            "killed"
            if code in KILLED
            else "survived"
            if code in SURVIVED
            else "no tests"
            if code in NO_TESTS
            else "not checked"
        )
        outcome.counts[kind] = outcome.counts.get(kind, 0) + 1
        if kind != "killed":
            unkilled.append(name)
    diffs = _diffs(work, env, unkilled)
    outcome.survivors = [(name, _diff_only(diffs[name])) for name in unkilled]
    return outcome


_SHOW = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
names = json.load(sys.stdin)
print(json.dumps({n: get_diff_for_mutant(n, path=find_mutant(n).path) for n in names}))
"""


def _diffs(work: Path, env: dict[str, str], names: list[str]) -> dict[str, str]:
    """Each mutant's diff, all from one process (``mutmut show`` would start one per mutant)."""
    if not names:
        return {}
    proc = subprocess.run(
        [sys.executable, "-c", _SHOW],
        cwd=work,
        env=env,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _natural(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def _diff_only(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("@@")), 0)
    return "\n".join(line for line in lines[start:] if line.startswith(("+", "-", "@@")))


# -- docs/mutation.md -----------------------------------------------------------------------

_BLOCK = re.compile(
    r"<!-- mutmut:(?P<path>\S+\.py) (?P<data>\{[^\n]*\}) -->\n.*?<!-- mutmut:(?P=path):end -->\n",
    re.S,
)
_TABLE = re.compile(r"<!-- mutmut:table -->\n.*?<!-- mutmut:table:end -->\n", re.S)


def _reasons() -> tuple[dict[str, str], list[dict[str, object]]]:
    """Reasons by mutant name, and the rules that explain a kind of mutant in a module."""
    if not SURVIVORS.exists():
        return {}, []
    data = tomllib.loads(SURVIVORS.read_text())
    named = {name: entry["reason"] for name, entry in data.get("survivor", {}).items()}
    return named, list(data.get("rule", []))


def _case_only(lines: list[str]) -> bool:
    """The change only alters letter case, outside any single-quoted SQL value."""
    removed = [line[1:] for line in lines if line.startswith("-")]
    added = [line[1:] for line in lines if line.startswith("+")]
    quoted = re.compile(r"'[^']*'")
    return (
        bool(removed)
        and len(removed) == len(added)
        and all(
            a != b and a.lower() == b.lower() and quoted.findall(a) == quoted.findall(b)
            for a, b in zip(removed, added, strict=True)
        )
    )


def _reason(path: str, name: str, lines: list[str], reasons: tuple[dict, list]) -> str | None:
    named, rules = reasons
    if name in named:
        return named[name]
    for rule in rules:
        if rule["module"] == path and rule.get("case_only") and _case_only(lines):
            return str(rule["reason"])
    return None


def _data(outcome: Outcome) -> dict[str, object]:
    """What the doc keeps of a run (in the block's marker, so ``--doc`` can redraw it)."""
    killed = outcome.counts.get("killed", 0)
    return {
        "mutants": outcome.mutants,
        "killed": killed,
        "survived": outcome.mutants - killed,
        "date": time.strftime("%Y-%m-%d"),
        "seconds": round(outcome.seconds),
        "survivors": {
            name: [line for line in diff.splitlines() if line.startswith(("+", "-"))]
            for name, diff in outcome.survivors
        },
    }


@dataclass
class Section:
    """One module's section of the doc, drawn from its run's data and the reasons."""

    path: str
    data: dict
    text: str = ""
    unexplained: int = 0
    equivalent: int = 0

    @property
    def score(self) -> float:
        """Killed among the mutants that can be killed (equivalent ones cannot)."""
        killable = self.data["mutants"] - self.equivalent
        return self.data["killed"] / killable if killable else 1.0


def _section(path: str, data: dict, reasons: tuple[dict, list]) -> Section:
    section = Section(path, data)
    target = next((t for t in TARGETS if t.path == path), Target(path, ()))
    rows = []
    for name, lines in data.get("survivors", {}).items():
        reason = _reason(path, name, lines, reasons)
        if reason is None:
            section.unexplained += 1
            reason = "**unexplained**: add a test that kills it, or the reason it cannot be"
        elif reason.startswith("Equivalent"):
            section.equivalent += 1
        change = "<br>".join(f"`{line[0]} {line[1:].strip()}`" for line in lines)
        short = name.rpartition(".")[2].replace("ǁ", ".").strip(".")
        rows.append(f"| `{short}` | {change.replace('|', '&#124;')} | {reason} |")
    mutants, killed, survived = data["mutants"], data["killed"], data["survived"]
    out = [f"<!-- mutmut:{path} {json.dumps(data, ensure_ascii=False)} -->", f"### `{path}`", ""]
    out.append(f"Mutated: {target.note or 'the whole module'}. ")
    out[-1] += f"Tests: {', '.join(f'`{x}`' for x in target.tests)}."
    out.append(
        f"{killed} of {mutants} mutants killed, {survived} survived "
        f"({section.equivalent} of them equivalent): {100 * section.score:.1f} % of the "
        f"mutants that can be killed; {data['seconds']} s on {data['date']}."
    )
    if rows:
        out += ["", "| mutant | change | why it survives |", "|---|---|---|", *rows]
    out += ["", f"<!-- mutmut:{path}:end -->", ""]
    section.text = "\n".join(out)
    return section


def _update_doc(outcomes: list[Outcome]) -> list[Section]:
    """Put *outcomes* into the doc, redraw every section and the table; return the sections."""
    reasons = _reasons()
    text = DOC.read_text() if DOC.exists() else "# Mutation testing\n\n"
    fresh = {o.target.path: _data(o) for o in outcomes}
    for path in fresh:
        if not any(m["path"] == path for m in _BLOCK.finditer(text)):
            empty = f"<!-- mutmut:{path} {{}} -->\n<!-- mutmut:{path}:end -->\n"
            text = text.rstrip("\n") + "\n\n" + empty
    sections: list[Section] = []

    def redraw(m: re.Match[str]) -> str:
        section = _section(m["path"], fresh.get(m["path"]) or json.loads(m["data"]), reasons)
        sections.append(section)
        return section.text

    text = _BLOCK.sub(redraw, text)
    order = {t.path: i for i, t in enumerate(TARGETS)}
    table = [
        "<!-- mutmut:table -->",
        "| module | mutants | killed | survived | equivalent | killed of killable | run |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for sec in sorted(sections, key=lambda r: order.get(r.path, len(order))):
        d = sec.data
        table.append(
            f"| `{sec.path}` | {d['mutants']} | {d['killed']} | {d['survived']} | "
            f"{sec.equivalent} | {100 * sec.score:.1f} % | {d['date']} |"
        )
    table.append("<!-- mutmut:table:end -->\n")
    if _TABLE.search(text):
        text = _TABLE.sub(lambda _: "\n".join(table), text)
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(table)
    DOC.write_text(text)
    return sections


def _verdict(sections: list[Section], paths: set[str] | None = None) -> int:
    """Print what falls short; 1 when a module is below THRESHOLD or a survivor unexplained."""
    chosen = [s for s in sections if paths is None or s.path in paths]
    low = [s.path for s in chosen if s.score < THRESHOLD]
    unexplained = sum(s.unexplained for s in chosen)
    if low:
        print(f"below {THRESHOLD:.0%} of the killable mutants: {', '.join(low)}")
    if unexplained:
        print(f"{unexplained} survivor(s) without a reason in {SURVIVORS.relative_to(ROOT)}")
    return 1 if low or unexplained else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module paths (default: all targets)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument(
        "--doc", action="store_true", help="only redraw docs/mutation.md (reasons edited)"
    )
    args = parser.parse_args(argv)
    if args.doc:
        sections = _update_doc([])
        print(f"wrote {DOC.relative_to(ROOT)}")
        return _verdict(sections)
    if args.list:
        for t in TARGETS:
            print(f"{t.path}: {' '.join(t.tests)}" + (f" [{t.note}]" if t.note else ""))
        return 0
    by_path = {t.path: t for t in TARGETS}
    unknown = [m for m in args.modules if m not in by_path]
    if unknown:
        parser.error(f"not a target: {', '.join(unknown)} (see --list)")
    targets = [by_path[m] for m in args.modules] or list(TARGETS)
    sections: list[Section] = []
    for target in targets:
        outcome = _run(target, args.jobs)
        print(
            f"   {outcome.counts.get('killed', 0)}/{outcome.mutants} killed "
            f"({100 * outcome.score:.1f} % of all) in {outcome.seconds:.0f} s",
            flush=True,
        )
        for name, diff in outcome.survivors:
            print(f"   survived: {name}\n" + "\n".join("      " + x for x in diff.splitlines()))
        # The doc is written after each module, so a long run keeps what it finished.
        sections = _update_doc([outcome])
    print(f"wrote {DOC.relative_to(ROOT)}")
    return _verdict(sections, {t.path for t in targets})


if __name__ == "__main__":
    raise SystemExit(main())

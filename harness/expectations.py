"""Known incompatibilities as data (``expectations.yaml``), and the judgement that turns verdicts into an exit status.

An expectation says: in these cells (and versions), for these targets, a bad outcome whose signature matches is a
known bug, not news. ``judge`` then reports two lists, and the run exits 0 only if both are empty:

* **new failures**: bad verdicts (``harness.results.BAD_OUTCOMES``) that no expectation explains;
* **stale expectations**: an expectation whose scope was run, and every verdict in it passed: the bug is fixed
  there, so narrow or remove the entry.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.datafile import DataFileError, Reader, load_yaml, near
from harness.results import BAD_OUTCOMES, Verdict

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "expectations.yaml"
#: verdict fields an expectation may narrow with fnmatch patterns
TARGET_FIELDS = ("cell", "arch", "task", "method", "property")
#: packages an expectation may narrow with a PEP 440 specifier, checked against the verdict's versions
VERSIONED = ("transformers", "peft", "torch")
#: what an entry records: a bug (to be fixed upstream; it needs a link) or a limitation (by design or
#: long-standing; a link is optional)
ENTRY_KINDS = ("bug", "limitation")


@dataclass(frozen=True)
class Expectation:
    id: str
    #: field → fnmatch patterns (``cell`` always present; an absent field matches everything)
    patterns: Mapping[str, tuple[str, ...]]
    #: package → specifier the verdict's installed version must satisfy
    versions: Mapping[str, SpecifierSet]
    #: a substring of the failure text, or a compiled regular expression
    signature: str | re.Pattern[str]
    reason: str
    link: str
    kind: str = "bug"

    def scopes(self, verdict: Verdict) -> bool:
        """Whether ``verdict`` is a run of a target this expectation speaks about (whatever its outcome)."""
        for name, patterns in self.patterns.items():
            if not any(fnmatch.fnmatchcase(getattr(verdict, name), p) for p in patterns):
                return False
        for package, spec in self.versions.items():
            try:
                if Version(verdict.versions.get(package, "")) not in spec:
                    return False
            except InvalidVersion:
                return False
        return True

    def explains(self, verdict: Verdict) -> bool:
        """Whether ``verdict`` is this known failure: in scope, bad, and with a matching signature."""
        if verdict.outcome not in BAD_OUTCOMES or not self.scopes(verdict):
            return False
        text = failure_text(verdict)
        if isinstance(self.signature, str):
            return self.signature in text
        return self.signature.search(text) is not None


def failure_text(verdict: Verdict) -> str:
    """What a signature is matched against: the normalised signature and the error's type and message."""
    error = f"{verdict.error.type}: {verdict.error.message}" if verdict.error else ""
    return f"{verdict.signature}\n{error}"


@dataclass(frozen=True)
class Judgement:
    new_failures: tuple[Verdict, ...]
    stale: tuple[Expectation, ...]
    #: bad verdicts an expectation explains, with the first one that does
    expected: tuple[tuple[Verdict, Expectation], ...]

    @property
    def ok(self) -> bool:
        return not self.new_failures and not self.stale

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @functools.cached_property
    def _explained(self) -> dict[int, Expectation]:
        return {id(v): e for v, e in self.expected}

    def known_as(self, verdict: Verdict) -> Expectation | None:
        """The expectation that explains ``verdict`` (None: a new failure, or not a failure)."""
        return self._explained.get(id(verdict))

    def lines(self) -> list[str]:
        """A human summary: the counts, one line per new failure target (verdicts of one target and signature
        counted together) and one per stale expectation."""
        out = [f"{len(self.new_failures)} new failure(s), {len(self.expected)} expected, {len(self.stale)} stale "
               "expectation(s)"]
        targets = Counter((v.cell, v.arch, v.method, v.property, v.outcome, v.signature) for v in self.new_failures)
        out += [f"NEW   {cell} {arch} {method} {prop}: {outcome} {signature}" + (f" ({n} verdicts)" if n > 1 else "")
                for (cell, arch, method, prop, outcome, signature), n in targets.items()]
        out += [f"STALE {e.id}: every verdict in its scope passed; narrow or remove it ({e.link})" for e in self.stale]
        return out


def explaining(verdict: Verdict, expectations: Iterable[Expectation]) -> Expectation | None:
    """The first expectation that explains ``verdict``: the one a run and a report credit it to."""
    return next((e for e in expectations if e.explains(verdict)), None)


def judge(verdicts: Iterable[Verdict], expectations: Iterable[Expectation]) -> Judgement:
    """New failures and stale expectations of one run (see the module docstring)."""
    verdicts, expectations = list(verdicts), list(expectations)
    new, expected = [], []
    for verdict in verdicts:
        if verdict.outcome not in BAD_OUTCOMES:
            continue
        match = explaining(verdict, expectations)
        if match is None:
            new.append(verdict)
        else:
            expected.append((verdict, match))
    stale = []
    for expectation in expectations:
        ran = [v.outcome for v in verdicts if v.outcome != "skip" and expectation.scopes(v)]
        if ran and all(outcome == "pass" for outcome in ran):
            stale.append(expectation)
    return Judgement(tuple(new), tuple(stale), tuple(expected))


def load_expectations(
    path: str | os.PathLike[str] | None = None, cells: Iterable[str] | None = None
) -> list[Expectation]:
    """Read and check ``expectations.yaml`` (default: the repository's). With ``cells`` (the names a matrix
    answers to), a cell pattern that matches none of them is an error too."""
    reader = Reader(path or DEFAULT_PATH)
    top = reader.mapping(load_yaml(reader.path), "", required=("expectations",))
    entries = top["expectations"]
    if not isinstance(entries, list):
        raise reader.error("expectations", f"expected a list of entries, got {entries!r}")
    known_cells = list(cells) if cells is not None else None
    out: list[Expectation] = []
    for i, raw in enumerate(entries):
        out.append(_parse(reader, f"expectations[{i}]", raw, known_cells))
        for earlier in out[:-1]:
            if earlier.id == out[-1].id:
                raise reader.error(f"expectations[{i}]", f"id {earlier.id!r} is used twice",
                                   "give each entry its own id")
    return out


def _parse(reader: Reader, where: str, raw: Any, cells: list[str] | None) -> Expectation:
    entry = reader.mapping(
        raw,
        where,
        required=("id", "cell", "reason"),
        optional=(*TARGET_FIELDS[1:], *VERSIONED, "signature", "signature_regex", "kind", "link"),
    )
    where = f"{where} ({entry['id']!r})" if isinstance(entry["id"], str) else where
    ident = reader.string(entry["id"], f"{where}.id")
    patterns = {name: reader.strings(entry[name], f"{where}.{name}") for name in TARGET_FIELDS if name in entry}
    if cells is not None:
        for pattern in patterns["cell"]:
            if not any(fnmatch.fnmatchcase(c, pattern) for c in cells):
                raise reader.error(f"{where}.cell", f"{pattern!r} matches no cell of the matrix{near(pattern, cells)}",
                                   "`python -m harness matrix --nightly` lists the cells")
    versions = {}
    for package in VERSIONED:
        if package in entry:
            text = reader.string(entry[package], f"{where}.{package}")
            try:
                versions[package] = SpecifierSet(text)
            except InvalidSpecifier:
                raise reader.error(f"{where}.{package}", f"{text!r} is not a version specifier",
                                   "write one such as \"<0.13\" or \">=4.50,<5\"") from None
    if ("signature" in entry) == ("signature_regex" in entry):
        raise reader.error(where, "needs exactly one of 'signature' (a substring) and 'signature_regex'",
                           "add the text the failure shows, e.g. signature: \"got multiple values\"")
    if "signature" in entry:
        signature: str | re.Pattern[str] = reader.string(entry["signature"], f"{where}.signature")
    else:
        text = reader.string(entry["signature_regex"], f"{where}.signature_regex")
        try:
            signature = re.compile(text)
        except re.error as exc:
            raise reader.error(f"{where}.signature_regex", f"not a regular expression: {exc}",
                               "fix it, or use 'signature' for a plain substring") from None
    kind = reader.string(entry.get("kind", "bug"), f"{where}.kind")
    if kind not in ENTRY_KINDS:
        raise reader.error(f"{where}.kind", f"{kind!r} is not a kind{near(kind, ENTRY_KINDS)}",
                           f"write one of {', '.join(ENTRY_KINDS)}")
    if "link" not in entry and kind == "bug":
        raise reader.error(where, "missing key 'link'", "link the upstream issue or pull request (only a "
                           "'kind: limitation' entry may go without one)")
    link = reader.string(entry["link"], f"{where}.link") if "link" in entry else ""
    if link and not link.startswith(("https://", "http://")):
        raise reader.error(f"{where}.link", f"{link!r} is not a URL", "link the issue or pull request")
    reason = reader.string(entry["reason"], f"{where}.reason")
    return Expectation(ident, patterns, versions, signature, reason, link, kind)


def append_entry(entry: Mapping[str, Any], path: str | os.PathLike[str] | None = None,
                 cells: Iterable[str] | None = None) -> Expectation:
    """Append ``entry`` to ``expectations.yaml`` (default: the repository's), keeping the file's text and comments,
    after checking it as the loader does (and that its id is new); the file is left as it was if it fails."""
    target = Path(path or DEFAULT_PATH)
    original = target.read_text(encoding="utf-8")
    known = load_expectations(target, cells)
    reader = Reader(target)
    where = f"new entry ({entry.get('id')!r})"
    parsed = _parse(reader, where, dict(entry), list(cells) if cells is not None else None)
    if any(e.id == parsed.id for e in known):
        raise reader.error(where, f"id {parsed.id!r} is already used", "choose another id, or edit that entry")
    block = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=110)
    head = re.sub(r"^expectations:[ \t]*\[[ \t]*\][ \t]*$", "expectations:", original, flags=re.MULTILINE)
    text = head.rstrip("\n") + "\n\n" + "".join(f"  {row}\n" if row else "\n" for row in block.splitlines())
    target.write_text(text, encoding="utf-8")
    try:
        load_expectations(target, cells)
    except DataFileError:
        target.write_text(original, encoding="utf-8")
        raise
    return parsed


__all__ = ["DataFileError", "Expectation", "Judgement", "append_entry", "explaining", "judge", "load_expectations"]

"""Strict reading of the harness's YAML data files (matrix.yaml, expectations.yaml, data/releases.yaml).

A bad entry is refused on load with one error that names the file, the entry and the fix. Nothing is skipped or
guessed: a duplicate key, an unknown key, a missing key or a value of the wrong type is an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml


class DataFileError(ValueError):
    """A data file the harness refuses: ``file: entry: problem; fix``."""

    def __init__(self, path: str | os.PathLike[str], where: str, problem: str, fix: str = "") -> None:
        self.path, self.where, self.problem, self.fix = str(path), where, problem, fix
        location = f"{self.path}: {where}" if where else self.path
        super().__init__(f"{location}: {problem}" + (f"; {fix}" if fix else ""))


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping (plain PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key {key!r} appears twice (lines {seen[key]} and {line}); keep one",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """The parsed content of ``path``; a missing file, a syntax error or a duplicate key is a DataFileError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, "", f"cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataFileError(path, f"line {line}", f"not UTF-8 text (byte {exc.object[exc.start]:#04x})",
                            "save the file as UTF-8") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataFileError(path, where, f"not valid YAML: {problem}") from None


def near(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the (up to three) choices fewest edits away, or ``""`` if none is close."""
    scored = sorted((_edits(word, c), c) for c in set(choices))
    close = [c for d, c in scored if d <= max(2, len(word) // 4) and d == scored[0][0]][:3]
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


class Reader:
    """Typed accessors over one parsed file that raise DataFileError naming ``path`` and the entry."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def error(self, where: str, problem: str, fix: str = "") -> DataFileError:
        return DataFileError(self.path, where, problem, fix)

    def mapping(
        self, value: Any, where: str, required: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> Mapping[str, Any]:
        """``value`` as a mapping with string keys, all ``required`` keys and no key outside required+optional."""
        required, optional = tuple(required), tuple(optional)
        if not isinstance(value, Mapping):
            raise self.error(where, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(where, f"key {key!r} is {_kind(key)}", _quote_hint(key) or "write a string")
        known = required + optional
        if known:
            for key in value:
                if key not in known:
                    raise self.error(
                        where or "top level",
                        f"unknown key {key!r}{near(key, known)}",
                        f"the known keys are {', '.join(known)}",
                    )
        for key in required:
            if key not in value:
                raise self.error(where or "top level", f"missing key {key!r}", "add it")
        return value

    def string(self, value: Any, where: str, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.error(where, f"expected a string, got {_kind(value)}", _quote_hint(value))
        if not empty and not value.strip():
            raise self.error(where, "is empty", "write a value")
        return value

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        """A string or a list of strings, as a tuple; duplicates are an error."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.error(where, f"expected a string or a non-empty list of strings, got {_kind(value)}")
        out = tuple(self.string(item, f"{where}[{i}]") for i, item in enumerate(items))
        for i, item in enumerate(out):
            if item in out[:i]:
                raise self.error(f"{where}[{i}]", f"{item!r} is listed twice", "keep one")
        return out

    def integer(self, value: Any, where: str, *, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(where, f"expected an integer >= {minimum}, got {value!r}")
        return value

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.error(where, f"expected a positive number, got {value!r}")
        return float(value)

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(where, f"expected true or false, got {value!r}")
        return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"the {type(value).__name__} {value!r}"


def _quote_hint(value: Any) -> str:
    # YAML reads an unquoted 4.50 as the number 4.5 (and 2.13 as 2.13): versions and lines must be quoted
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"write versions and lines in quotes: unquoted, YAML read this one as the number {value!r}"
    return ""

"""The known releases of transformers and peft, with their dates, so a matrix can be checked offline.

``harness/data/releases.yaml`` is generated: ``python -m harness matrix --refresh-releases`` reads each package's
file list from the package index's JSON API (PEP 691, with PEP 700 upload times: the API pip and uv read) and
rewrites the file. It keeps final releases that are not yanked, each with the day its first file was uploaded.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import yaml
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from harness.datafile import Reader, load_yaml

PACKAGES = ("transformers", "peft")
DEFAULT_PATH = Path(__file__).parents[1] / "data" / "releases.yaml"
DEFAULT_INDEX = "https://pypi.org/simple"
REFRESH_COMMAND = "python -m harness matrix --refresh-releases"


def line_of(version: str) -> str:
    """``"4.45.2"`` → ``"4.45"``."""
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True)
class Releases:
    """package → version → the day its first file was uploaded."""

    path: Path
    dates: Mapping[str, Mapping[str, date]]

    def released(self, package: str, version: str) -> bool:
        return version in self.dates[package]

    def released_on(self, package: str, version: str) -> date:
        return self.dates[package][version]

    def of_line(self, package: str, line: str) -> list[str]:
        """The releases of ``line`` (e.g. "4.45"), oldest first."""
        return sorted((v for v in self.dates[package] if line_of(v) == line), key=Version)

    def lines(self, package: str) -> list[str]:
        """Every release line of ``package``, oldest first."""
        return sorted({line_of(v) for v in self.dates[package]}, key=Version)

    def first_day(self, package: str, line: str) -> date:
        """The day the first release of ``line`` came out."""
        return min(self.dates[package][v] for v in self.of_line(package, line))


def load_releases(path: str | os.PathLike[str] | None = None) -> Releases:
    """Read and check releases.yaml (default: the one shipped in ``harness/data``)."""
    path = Path(path or DEFAULT_PATH)
    reader = Reader(path)
    data = reader.mapping(load_yaml(path), "", required=PACKAGES)
    dates: dict[str, dict[str, date]] = {}
    for package in PACKAGES:
        entries = reader.mapping(data[package], package)
        dates[package] = {}
        for version, day in entries.items():
            where = f"{package}[{version!r}]"
            try:
                Version(version)
                dates[package][version] = date.fromisoformat(reader.string(day, where))
            except (InvalidVersion, ValueError):
                raise reader.error(where, f"expected 'X.Y.Z': 'YYYY-MM-DD', got {version!r}: {day!r}",
                                   f"regenerate the file with `{REFRESH_COMMAND}`") from None
    return Releases(path, dates)


def fetch(package: str, index_url: str = DEFAULT_INDEX) -> dict[str, date]:
    """Final, non-yanked releases of ``package`` on the index → the day the first file of each was uploaded."""
    request = urllib.request.Request(
        f"{index_url.rstrip('/')}/{package}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - an https index URL
        files = json.load(response)["files"]
    return first_upload_days(files)


def first_upload_days(files: Iterable[Mapping[str, object]]) -> dict[str, date]:
    """From PEP 691 file entries: version → first upload day, for final versions with at least one unyanked file."""
    days: dict[str, date] = {}
    live: set[str] = set()
    for entry in files:
        version = _version_of(str(entry["filename"]))
        uploaded = entry.get("upload-time")
        if version is None or version.is_prerelease or version.is_devrelease or not uploaded:
            continue
        key = str(version)
        day = datetime.fromisoformat(str(uploaded).replace("Z", "+00:00")).astimezone(timezone.utc).date()
        days[key] = min(day, days.get(key, day))
        if not entry.get("yanked"):
            live.add(key)
    return {v: days[v] for v in sorted(live, key=Version, reverse=True)}


def _version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def refresh(path: str | os.PathLike[str] | None = None, index_url: str = DEFAULT_INDEX) -> Path:
    """Rewrite releases.yaml from the index; the old file stays untouched if any package cannot be read."""
    path = Path(path or DEFAULT_PATH)
    found = {package: fetch(package, index_url) for package in PACKAGES}
    header = (
        f"# Generated by `{REFRESH_COMMAND}` from {index_url} on {date.today().isoformat()}; do not edit.\n"
        "# Final, non-yanked releases, newest first, with the day (UTC) their first file was uploaded.\n"
    )
    body = {package: {v: day.isoformat() for v, day in versions.items()} for package, versions in found.items()}
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(header + yaml.safe_dump(body, sort_keys=False, default_flow_style=False), encoding="utf-8")
    tmp.replace(path)
    return path

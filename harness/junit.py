"""JUnit XML from verdicts: one test case per (target, property), failed when any of its verdicts is bad."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from harness.results import BAD_OUTCOMES, Verdict


def write_junit(verdicts: list[Verdict], path: Path, suite: str) -> None:
    """Write ``path``; CI systems show each bad (target, property) with its signature and first traceback."""
    grouped: dict[tuple[str, str], list[Verdict]] = defaultdict(list)
    for v in verdicts:
        grouped[(f"{v.task}.{v.arch}.{v.method}", v.property)].append(v)
    root = ET.Element("testsuite", name=suite, tests=str(len(grouped)))
    failures = 0
    for (classname, prop), group in sorted(grouped.items()):
        case = ET.SubElement(root, "testcase", classname=classname, name=prop,
                             time=f"{sum(v.duration_s for v in group):.3f}")
        bad = [v for v in group if v.outcome in BAD_OUTCOMES]
        if bad:
            failures += 1
            first = bad[0]
            node = ET.SubElement(case, "failure", type=first.outcome, message=first.signature[:500])
            node.text = (f"{len(bad)} of {len(group)} cases; first case {first.case_id}\n"
                         f"{first.error.traceback if first.error else ''}")
        elif all(v.outcome in ("skip", "unsupported") for v in group):
            ET.SubElement(case, "skipped", message=group[0].reason[:500])
    root.set("failures", str(failures))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

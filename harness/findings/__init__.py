"""Findings: bad verdicts of many cells grouped into root causes, each with a stable id, a version range per
package, a kind (regression, long-standing, fixed, flaky, harness gap), its smallest example case and a verified
standalone reproducer. Reads verdicts only: no torch, transformers or peft needed (the reproducers run elsewhere)."""

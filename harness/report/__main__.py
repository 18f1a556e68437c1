"""``python -m harness.report``: the report command alone, without importing the rest of the harness (no torch)."""

import argparse

from harness.report import cli

parser = argparse.ArgumentParser(prog="python -m harness.report", description=cli.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
cli.configure(parser)
raise SystemExit(cli.main(parser.parse_args()))

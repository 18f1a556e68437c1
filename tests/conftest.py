import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness.quiet import quiet_libraries  # noqa: E402

quiet_libraries()

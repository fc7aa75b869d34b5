"""Run one `cdo-hub` command and print how long it took beyond starting the process.

    python benchmarks/timed_cli.py [--config PATH] COMMAND [ARGS...]

Starting Python and importing the hub is the same for every command whatever the data, so the
clock starts after the imports: what is timed is reading the configuration, opening the
database and the command's own work. The command's output is discarded; the last line printed
is {"seconds": ..., "code": ...} (the command's exit code; this script exits 0 once it has said so).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# What the commands import lazily; imported here so that it is not part of the time.
import bot.app.digest
import bot.app.sweep
import bot.reports
import bot.runtime  # noqa: F401
from bot.cli import main as cdo_hub


def main() -> int:
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
        started = time.perf_counter()
        try:
            code = cdo_hub(sys.argv[1:])
        except Exception:  # a crash is a result too: said on stderr, counted as a failure
            traceback.print_exc()
            code = 1
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "code": code}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

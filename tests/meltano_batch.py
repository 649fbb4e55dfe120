"""Several `meltano` commands in one Python process, each as its console script runs it.

Importing Meltano takes about 3 s of each command's 4; commands that move no data (config
list, config test, invoke --test) pay it once here. Each command gets the process's starting
environment plus its own variables, a freshly found project (Meltano keeps the first one it
finds) and its own output: file descriptors 1 and 2 are redirected, so the plugins Meltano
starts are captured too.

    python tests/meltano_batch.py RESULTS.json < COMMANDS.json

COMMANDS.json: ``[{"args": [...], "env": {...}}, ...]``; RESULTS.json gets
``[{"returncode": int, "output": str}, ...]`` in the same order.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from meltano.cli import main
from meltano.core.project import Project


def run(args: list[str], env: dict[str, str], start: dict[str, str]) -> dict[str, Any]:
    os.environ.clear()
    os.environ.update({**start, **env})
    Project._default = None  # else every command reuses the project the first one found
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as captured:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(captured.fileno(), 1)
        os.dup2(captured.fileno(), 2)
        sys.argv = ["meltano", *args]
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except BaseException:  # the console script would die with a traceback too
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        captured.seek(0)
        return {"returncode": code, "output": captured.read().decode(errors="replace")}


def batch() -> None:
    results_file, commands = Path(sys.argv[1]), json.load(sys.stdin)
    start = dict(os.environ)
    results = [run(c["args"], c.get("env", {}), start) for c in commands]
    results_file.write_text(json.dumps(results))


if __name__ == "__main__":
    batch()

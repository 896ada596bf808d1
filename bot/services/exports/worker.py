"""Export processes: the bot writes big files in a child Python so the event loop keeps the GIL.

The parent (`write_in_process`) sends an `ExportJob` as JSON on stdin; the child
(`python -m bot.services.exports.worker`) writes the file (temporary file, then rename) and prints
one JSON line: the rows written and its peak RSS, or the key of a refusal. Anything else is a
failure: the child exits non-zero with its traceback on stderr and leaves no file behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path

from bot.services.exports.job import ExportJob, ExportResult, JobRefused, write_export

MODULE = "bot.services.exports.worker"
# A hung child must not hold a staff member's export forever.
TIMEOUT_SECONDS = 1800.0
REFUSED_EXIT = 3
_ROOT = Path(__file__).resolve().parents[3]


class ExportFailed(Exception):
    """The export process failed; `detail` is its last error line (for the log, not for members)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def write_in_process(job: ExportJob) -> tuple[ExportResult, int]:
    """Write the job in a child process: (the result, the child's peak RSS in KB)."""
    environment = dict(os.environ)
    # The child imports the project the way this process did, wherever it was started from.
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        MODULE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            out, err = await process.communicate(job.to_json().encode())
    except TimeoutError:
        await _stop(process)
        raise ExportFailed(f"no result after {TIMEOUT_SECONDS:.0f} s") from None
    except BaseException:
        # Cancelled (the bot is stopping): the child must not outlive the request.
        await _stop(process)
        raise
    lines = out.decode(errors="replace").strip().splitlines()
    if process.returncode == REFUSED_EXIT and lines:
        raise JobRefused(str(json.loads(lines[-1])["refused"]))
    if process.returncode != 0 or not lines:
        errors = err.decode(errors="replace").strip().splitlines()
        raise ExportFailed(errors[-1] if errors else f"exit status {process.returncode}")
    data = json.loads(lines[-1])
    rows = {str(name): int(n) for name, n in data["rows"].items()}
    also = tuple(Path(name) for name in data["also"])
    result = ExportResult(Path(data["path"]), rows, bool(data["pii"]), also)
    return result, int(data["rss_kb"])


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


def _orphan_watch() -> None:
    """End this process if the bot that started it dies: nobody would take the file."""
    parent = os.getppid()
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def main() -> int:
    """Read a job on stdin, write its file, print the result as one JSON line."""
    threading.Thread(target=_orphan_watch, daemon=True).start()
    job = ExportJob.from_json(sys.stdin.read())
    try:
        result = write_export(job)
    except JobRefused as refused:
        sys.stdout.write(json.dumps({"refused": refused.key}) + "\n")
        return REFUSED_EXIT
    except Exception:
        traceback.print_exc()
        return 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The child names the file when `out` is a folder: the parent learns the name here.
    written = {
        "path": str(result.path),
        "also": [str(path) for path in result.also],
        "rows": result.rows,
        "pii": result.pii,
        "rss_kb": rss,
    }
    sys.stdout.write(json.dumps(written) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

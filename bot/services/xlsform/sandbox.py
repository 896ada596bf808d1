"""Read a form file in a separate process with a memory and time limit, never in the bot's own.

Whatever a file holds (a zip bomb, a huge string table, XML that takes minutes), the bot's
process only waits on a pipe: the child gets `SANDBOX_MEMORY` of address space beyond the
interpreter and `SANDBOX_CPU_SECONDS` of processor time, and is stopped past them (or past
`SANDBOX_SECONDS` of wall time). It is started clean (`python -I`): no environment (so no
token), no site customisation, only the bot's package on its path.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.services.xlsform.archive import check_archive
from bot.services.xlsform.limits import (
    MB,
    SANDBOX_CPU_SECONDS,
    SANDBOX_MEMORY,
    SANDBOX_SECONDS,
    keyed,
    refusal,
)
from bot.services.xlsform.model import FormError, FormSummary

Sheets = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class FileForm:
    """What the reader made of a file: the sheets as text and the form's summary when it is
    valid, else every refusal."""

    sheets: Sheets
    errors: list[FormError]
    warnings: list[str] = field(default_factory=list)
    summary: FormSummary | None = None


# The folder holding the `bot` package, put on the child's path (it ignores PYTHONPATH).
_ROOT = str(Path(__file__).resolve().parents[3])
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from bot.services.xlsform.reader import main; main()"
)


def read_form_file(
    path: Path,
    source: str,
    memory: int = SANDBOX_MEMORY,
    cpu_seconds: int = SANDBOX_CPU_SECONDS,
    seconds: float = SANDBOX_SECONDS,
) -> FileForm:
    """Read and check an .xlsx in the sandbox: its form sheets as text and its summary, or the
    refusals (each naming its limit). The child also parses and checks the form, so that what
    a form costs to check is bounded by the same limits.

    Blocking (it waits for the child): call it in a thread from async code.
    """
    errors = check_archive(path, source)
    if errors:
        return FileForm({}, errors)
    limits = [str(memory), str(cpu_seconds)]
    command = [sys.executable, "-I", "-B", "-c", _CHILD, _ROOT, str(path), source, *limits]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code, the path as argument
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=seconds,
            env={},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return FileForm({}, [refusal(source, "", None, None, "survey.load.time", limit=seconds)])
    try:
        result: dict[str, Any] = json.loads(done.stdout) if done.stdout else {}
    except ValueError:
        result = {}
    if result.get("memory") or (done.returncode != 0 and b"MemoryError" in done.stderr):
        limit = f"{memory / MB:,.0f}"
        return FileForm({}, [refusal(source, "", None, None, "survey.load.memory", limit=limit)])
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        key = "survey.load.cpu"
        return FileForm({}, [refusal(source, "", None, None, key, limit=cpu_seconds)])
    if done.returncode != 0 or "sheets" not in result:
        # Failed in a way the child could not report.
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [
            f"exit status {done.returncode}"
        ]
        key, part = "survey.load.damaged", "workbook"
        return FileForm(
            {}, [refusal(source, "", None, None, key, part=part, detail=detail[0][:300])]
        )
    errors = [keyed(FormError(**_fields(item))) for item in result["errors"]]
    found = result.get("summary")
    summary = None
    if found and not errors:
        titles = tuple((str(code), str(text)) for code, text in found["titles"])
        summary = FormSummary(**{**found, "titles": titles})
    return FileForm(result["sheets"] if summary else {}, errors, result["warnings"], summary)


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    """A FormError's fields from JSON (params come back as lists)."""
    return {**item, "params": tuple(tuple(pair) for pair in item.get("params", ()))}

"""Handlers, the step engine and the CLI ask services; only services hold the store."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Everything that talks to people (chat or terminal) rather than to the database.
OUTER = sorted(
    [
        *(ROOT / "bot" / "handlers").glob("*.py"),
        *(ROOT / "bot" / "cli").glob("*.py"),
        *(ROOT / "bot" / "flows").glob("*.py"),
        *(ROOT / "bot" / "delivery").glob("*.py"),
        ROOT / "bot" / "keyboards.py",
        ROOT / "bot" / "language.py",
        ROOT / "bot" / "sandbox" / "demo.py",
    ]
)


def _reaches_past_services(path: Path) -> list[str]:
    """Where a module touches the store or a repository (line: what)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("store", "repository", "_store"):
            found.append(f"{node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storage"):
            found.extend(
                f"{node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name.endswith("Repository") or alias.name in ("Store", "Database")
            )
    return sorted(found, key=lambda item: int(item.split(":")[0]))


def test_the_outer_layer_asks_services_and_never_the_store() -> None:
    assert len(OUTER) > 20  # the scan sees the handlers and the CLI
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in OUTER
        if (found := _reaches_past_services(path))
    }
    assert offenders == {}


def test_the_scan_finds_a_handler_that_reaches_the_store(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from storage.members import MembersRepository\n"
        "async def handler(context):\n"
        "    return await context.services.store.members.by_id(1)\n",
        encoding="utf-8",
    )
    assert _reaches_past_services(sneaky) == ["1: imports MembersRepository", "3: .store"]

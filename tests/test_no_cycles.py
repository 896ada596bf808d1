"""No import cycle in bot/ or storage/ (the emulator, tgemu/, is not scanned).

A cycle means neither module can be read, tested or moved without the other; import-linter's
layer contract only sees cycles that cross its layers, so this scan looks at every module.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest


def cycles(*packages: str) -> list[str]:
    """Each import cycle among the modules of `packages`, as 'a -> b -> a' (function-level and
    TYPE_CHECKING imports count: they tie the modules just the same)."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    found: dict[frozenset[str], str] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                found.setdefault(frozenset(back), " -> ".join((importer, *back)))
    return sorted(found.values())


def test_bot_and_storage_import_without_a_cycle() -> None:
    found = cycles("bot", "storage")
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_scan_finds_a_cycle_through_three_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from cyclic import second\n")
    (package / "second.py").write_text("def later() -> None:\n    from cyclic import third\n")
    (package / "third.py").write_text("import cyclic.first\n")
    (package / "alone.py").write_text("import cyclic.first\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles("cyclic") == ["cyclic.first -> cyclic.second -> cyclic.third -> cyclic.first"]

"""``consultbot associations import FILE``: the associations registry from a CSV file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_config, read_text, run_with_services, say

if TYPE_CHECKING:
    from bot.context import Services


def import_associations(arguments: argparse.Namespace) -> int:
    """Load associations from a CSV file into the registry."""
    text = read_text(arguments.file, "associations", encoding="utf-8-sig")

    async def load(services: Services) -> int:
        result = await services.registration.import_associations(text)
        for problem in result.problems:
            say(f"skipped: {problem}", error=True)
        say(f"imported {result.added}, already present {result.already_present}")
        return 1 if result.problems else 0

    return run_with_services(arguments, "associations", load)


def register(commands: Any) -> None:
    """Add `associations import`."""
    registry = commands.add_parser("associations", help="the associations registry")
    about = "import CSV rows: name,country,province_state,city,kind"
    importer = registry.add_subparsers(dest="action", required=True).add_parser(
        "import", help=about, description=about
    )
    importer.add_argument("file", help="the CSV file (UTF-8, with a header row)")
    add_config(importer)
    importer.set_defaults(handler=import_associations)

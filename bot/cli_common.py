"""What every ``consultbot`` subcommand shares: audience options and one-line output."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from storage.models import AudienceFilter

# The audience options of `broadcast`, `meetings create` and `surveys open`, spelled the same.
AUDIENCE_OPTIONS: tuple[tuple[str, type], ...] = (
    ("country", str),
    ("region", str),
    ("city", str),
    ("association", int),
    ("theme", str),
    ("sector", str),
    ("role", str),
)


def add_audience_options(parser: argparse.ArgumentParser, theme_note: str = "") -> None:
    """--country, --region, --city, --association, --theme, --sector, --role (each repeatable)."""
    for name, kind in AUDIENCE_OPTIONS:
        parser.add_argument(
            f"--{name}",
            action="append",
            default=[],
            type=kind,
            help="audience filter (repeat for several; region as US-TX)"
            + (theme_note if name == "theme" else ""),
        )


def audience_from(arguments: argparse.Namespace, **extra: Any) -> AudienceFilter:
    """The AudienceFilter the options describe (every option narrows; repeats widen)."""
    return AudienceFilter(
        countries=tuple(arguments.country),
        regions=tuple(region.upper() for region in arguments.region),
        cities=tuple(arguments.city),
        association_ids=tuple(arguments.association),
        themes=tuple(arguments.theme),
        sectors=tuple(arguments.sector),
        roles=tuple(arguments.role),
        **extra,
    )


def say(text: str, error: bool = False) -> None:
    """One line of output (stdout for results, stderr for problems)."""
    (sys.stderr if error else sys.stdout).write(text + "\n")

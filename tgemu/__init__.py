"""An offline stand-in for the Telegram Bot API, validated against the official schema.

The bot never imports this package; tests, benchmarks and the demo do.
"""

from tgemu.core import ApiError, ChatMessage, Faults, Group, Limits, Person, Shown
from tgemu.server import Emulator

__all__ = ["ApiError", "ChatMessage", "Emulator", "Faults", "Group", "Limits", "Person", "Shown"]

"""Chat flows: the step engine, where a person is in a flow, and how a flow plugs in.

`register(application, Flow(...))` is the only way a flow exists (see `bot.flows.plug`).
"""

from bot.flows.plug import Command as Command
from bot.flows.plug import Flow as Flow
from bot.flows.plug import FlowNameError as FlowNameError
from bot.flows.plug import engine_of as engine_of
from bot.flows.plug import register as register

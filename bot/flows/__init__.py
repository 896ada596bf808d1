"""Chat flows: the step engine, where a person is in a flow, and how a flow plugs in."""

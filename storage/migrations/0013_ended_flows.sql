-- The update that ended a conversation is marked with the flow it ended, in the transaction that
-- ends it: replayed after a crash that came before the reply, it is recognised as done and the
-- person is told so (the conversation row, which marks other steps, is gone by then).
ALTER TABLE inbox ADD COLUMN ended_flow TEXT;

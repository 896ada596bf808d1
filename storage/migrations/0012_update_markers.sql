-- Each batch of updates stored clears the "answer taken" marker of the ids it reuses
-- (storage/inbox.py); without an index that was a scan of every member and conversation per
-- batch, which is why registration slowed as the consultation grew (100,000 members: half).
CREATE INDEX members_last_update ON members (last_update_id);
CREATE INDEX conversations_last_update ON conversations (last_update_id);

-- What a member's profile held when they started editing a field, so /cancel can put it back.
ALTER TABLE members ADD COLUMN edit_backup TEXT;

-- A workflow write (a create, an edit, a decision) is now sent to SQLite as
-- one statement text, `BEGIN IMMEDIATE; ...; COMMIT`, holding the
-- statements of each row it writes (see `write_text.rs`): one round trip,
-- as the single entry statement of migration 000010 was, without the JSON
-- that statement carried in `moderation_entries.pending_write` for its
-- triggers to parse, the second write of every entry row that cleared it,
-- and the trigger programs SQLite set up for every row. Those triggers and
-- their view are dropped. The column stays, always NULL: dropping it would
-- copy the table.
--
-- A version check that must stop a write inserts a row naming it into
-- this table, only when the statement before it changed nothing. The named
-- constraints refuse every such row, so the table stays empty, and the
-- error names the check, which the store turns back into a typed conflict.

CREATE TABLE moderation_write_checks (
    failed TEXT NOT NULL,
    CONSTRAINT moderation_entry_version CHECK (failed <> 'entry'),
    CONSTRAINT moderation_superseded_entry_version CHECK (failed <> 'superseded entry'),
    CONSTRAINT moderated_object_version CHECK (failed <> 'record')
);

DROP TRIGGER moderation_entries_write_on_insert;
DROP TRIGGER moderation_entries_clear_on_insert;
DROP TRIGGER moderation_entries_write_on_update;
DROP TRIGGER moderation_object_writes_apply;
DROP VIEW moderation_object_writes;

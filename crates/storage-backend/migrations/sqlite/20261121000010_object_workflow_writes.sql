-- One statement writes a workflow change: the entry it opens or decides,
-- the object's record, the pending entry an edit supersedes, and the
-- moderation log entries of a decision. SQLite makes every statement
-- atomic, triggers included, so a create, an edit or a decision needs no
-- explicit transaction; each extra statement would cost a round trip to
-- the connection's worker thread.
--
-- The entry statement carries the rest of the change in `pending_write`, a
-- JSON object built by `objects.rs` (`WriteCarrier`): the record's key and
-- columns, `insert` (a new record) or the record `expected` version, the
-- `other` entry to supersede (or null) with its expected version, and the
-- `log` rows. The triggers below apply it through the view
-- moderation_object_writes and clear the column, so it is NULL at rest.
--
-- A stale version aborts the whole statement with one of two messages the
-- store turns back into typed conflicts:
--   'moderation_entries: version conflict'  the superseded entry changed;
--   'moderated_objects: version conflict'   the record changed, or exists
--                                           already when it is inserted.
-- The entry statement checks its own entry's version in its WHERE clause,
-- before any trigger runs, so a stale entry reports as such first.

ALTER TABLE moderation_entries ADD COLUMN pending_write TEXT;

CREATE VIEW moderation_object_writes (write) AS
    SELECT pending_write FROM moderation_entries WHERE 0;

CREATE TRIGGER moderation_object_writes_apply INSTEAD OF INSERT ON moderation_object_writes
BEGIN
    SELECT RAISE(ABORT, 'moderation_entries: version conflict')
    WHERE NEW.write ->> '$.other.id' IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM moderation_entries
                      WHERE id = NEW.write ->> '$.other.id'
                        AND version = NEW.write ->> '$.other.expected');
    UPDATE moderation_entries SET
        status = NEW.write ->> '$.other.status',
        snapshot = NEW.write ->> '$.other.snapshot',
        submitted_by = NEW.write ->> '$.other.submitted_by',
        submitted_at = NEW.write ->> '$.other.submitted_at',
        decided_by = NEW.write ->> '$.other.decided_by',
        decided_at = NEW.write ->> '$.other.decided_at',
        reason = NEW.write ->> '$.other.reason',
        version = version + 1
    WHERE id = NEW.write ->> '$.other.id';

    SELECT RAISE(ABORT, 'moderated_objects: version conflict')
    WHERE CASE WHEN NEW.write ->> 'insert'
        THEN EXISTS (SELECT 1 FROM moderated_objects
                     WHERE kind = NEW.write ->> 'kind' AND object_key = NEW.write ->> 'key')
        ELSE NOT EXISTS (SELECT 1 FROM moderated_objects
                         WHERE kind = NEW.write ->> 'kind' AND object_key = NEW.write ->> 'key'
                           AND version = NEW.write ->> 'expected')
    END;
    INSERT INTO moderated_objects (kind, object_key, state, status, decided_by, decided_at,
        reason, public_version, approved_version, current_version, revision, version,
        created_at, updated_at)
    SELECT NEW.write ->> 'kind', NEW.write ->> 'key', NEW.write ->> 'state',
        NEW.write ->> 'status', NEW.write ->> 'decided_by', NEW.write ->> 'decided_at',
        NEW.write ->> 'reason', NEW.write ->> 'public', NEW.write ->> 'approved',
        NEW.write ->> 'current', NEW.write ->> 'revision', 1, NEW.write ->> 'created_at',
        NEW.write ->> 'updated_at'
    WHERE NEW.write ->> 'insert';
    UPDATE moderated_objects SET
        state = NEW.write ->> 'state',
        status = NEW.write ->> 'status',
        decided_by = NEW.write ->> 'decided_by',
        decided_at = NEW.write ->> 'decided_at',
        reason = NEW.write ->> 'reason',
        public_version = NEW.write ->> 'public',
        approved_version = NEW.write ->> 'approved',
        current_version = NEW.write ->> 'current',
        revision = NEW.write ->> 'revision',
        version = version + 1,
        updated_at = NEW.write ->> 'updated_at'
    WHERE kind = NEW.write ->> 'kind' AND object_key = NEW.write ->> 'key'
      AND NOT (NEW.write ->> 'insert');

    INSERT INTO moderation_log (action, actor, target_kind, target_key, reason, before_state,
        after_state, detail, ip, bulk_id, at)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
        value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
    FROM json_each(NEW.write, '$.log');
END;

-- A new entry: the record goes first (BEFORE), so a record that exists
-- already is reported as a conflict before the entry's own constraints run,
-- and the entry's foreign key finds its record.
CREATE TRIGGER moderation_entries_write_on_insert BEFORE INSERT ON moderation_entries
WHEN NEW.pending_write IS NOT NULL
BEGIN
    INSERT INTO moderation_object_writes (write) VALUES (NEW.pending_write);
END;

CREATE TRIGGER moderation_entries_clear_on_insert AFTER INSERT ON moderation_entries
WHEN NEW.pending_write IS NOT NULL
BEGIN
    UPDATE moderation_entries SET pending_write = NULL WHERE id = NEW.id;
END;

-- A decided or replaced entry: its own version matched, now the rest.
CREATE TRIGGER moderation_entries_write_on_update AFTER UPDATE OF pending_write ON moderation_entries
WHEN NEW.pending_write IS NOT NULL
BEGIN
    INSERT INTO moderation_object_writes (write) VALUES (NEW.pending_write);
    UPDATE moderation_entries SET pending_write = NULL WHERE id = NEW.id;
END;

-- The pending list only ever reads pending entries: indexing those alone
-- keeps both indexes as small as the queue, and a decision removes its
-- entry from them instead of moving it to another place in each.
DROP INDEX moderation_entries_queue;
DROP INDEX moderation_entries_kind_queue;
CREATE INDEX moderation_entries_queue ON moderation_entries (submitted_at, id)
    WHERE status = 'pending';
CREATE INDEX moderation_entries_kind_queue ON moderation_entries (kind, submitted_at, id)
    WHERE status = 'pending';

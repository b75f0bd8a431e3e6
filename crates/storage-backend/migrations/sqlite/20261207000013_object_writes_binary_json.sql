-- The workflow's carried writes now reach the triggers of migration 000010
-- as SQLite's binary JSON: the entry statements wrap their carrier in
-- `jsonb(...)`, and a batch of decisions reads its array with
-- `jsonb_each`. A `->>` on binary JSON reads the value in place, where on
-- text it parses the text first.
--
-- The log rows of a write were read with `json_each`, which hands each row
-- to the statement as text, again for every column taken from it, and each
-- `->>` then parsed that text: about a quarter of a bulk decision's
-- instructions. `jsonb_each` hands each row over as binary JSON. It reads
-- text carriers as well. The trigger is otherwise unchanged.

DROP TRIGGER moderation_object_writes_apply;
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
    FROM jsonb_each(NEW.write, '$.log');
END;

-- One statement writes an item and its log entry, so a submission or a
-- status change needs no explicit transaction: SQLite makes every statement
-- atomic, triggers included, and each extra statement costs a round trip to
-- the connection's worker thread.
--
-- The writing statement carries the log entry in `pending_log`, a JSON array
-- in the order action, actor, reason, detail, ip, from_status, to_status,
-- bulk_id, at (see `sql.rs`). The triggers below move it into
-- moderation_item_log and clear the column, so it is NULL at rest. A failure
-- in a trigger aborts the whole statement: the item change is undone too.

ALTER TABLE moderation_items ADD COLUMN pending_log TEXT;

CREATE TRIGGER moderation_items_log_on_insert AFTER INSERT ON moderation_items
WHEN NEW.pending_log IS NOT NULL
BEGIN
    INSERT INTO moderation_item_log
        (item_id, action, actor, reason, detail, ip, from_status, to_status, bulk_id, at)
    VALUES (NEW.id, NEW.pending_log ->> 0, NEW.pending_log ->> 1, NEW.pending_log ->> 2,
            NEW.pending_log ->> 3, NEW.pending_log ->> 4, NEW.pending_log ->> 5,
            NEW.pending_log ->> 6, NEW.pending_log ->> 7, NEW.pending_log ->> 8);
    UPDATE moderation_items SET pending_log = NULL WHERE id = NEW.id;
END;

CREATE TRIGGER moderation_items_log_on_update AFTER UPDATE OF pending_log ON moderation_items
WHEN NEW.pending_log IS NOT NULL
BEGIN
    INSERT INTO moderation_item_log
        (item_id, action, actor, reason, detail, ip, from_status, to_status, bulk_id, at)
    VALUES (NEW.id, NEW.pending_log ->> 0, NEW.pending_log ->> 1, NEW.pending_log ->> 2,
            NEW.pending_log ->> 3, NEW.pending_log ->> 4, NEW.pending_log ->> 5,
            NEW.pending_log ->> 6, NEW.pending_log ->> 7, NEW.pending_log ->> 8);
    UPDATE moderation_items SET pending_log = NULL WHERE id = NEW.id;
END;

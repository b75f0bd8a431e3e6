-- The moderation-log copy of a moderator action on an item (migration
-- 000008) moves from a trigger on moderation_item_log into the triggers on
-- moderation_items that write the item log entry.
--
-- SQLite compiles a trigger's WHEN clause into the trigger's own program,
-- so the log trigger ran a program (and allocated its frame) for every item
-- log row only to find most of them were submissions: about a sixth of the
-- instructions of a batch submission. Written inside the item triggers, the
-- copy is one more statement of a program that runs anyway, filtered by
-- its WHERE clause. It reads the item log row the trigger has just written
-- (inside a trigger, last_insert_rowid() is the id of the trigger's own
-- latest insert), so the rows it writes are the same as before: the item's
-- kind and object key as target, `item.` and the action as verb, and the
-- statuses, detail, IP, bulk id and time of the item log entry.
--
-- Log entries the store inserts straight into moderation_item_log (batch
-- submissions, flags) are copied by the store itself when one of them is a
-- moderator action (`COPY_STAFF_ACTIONS` in `sql.rs`).

DROP TRIGGER moderation_item_log_to_moderation_log;

DROP TRIGGER moderation_items_log_on_insert;
CREATE TRIGGER moderation_items_log_on_insert AFTER INSERT ON moderation_items
WHEN NEW.pending_log IS NOT NULL
BEGIN
    INSERT INTO moderation_item_log
        (item_id, action, actor, reason, detail, ip, from_status, to_status, bulk_id, at)
    VALUES (NEW.id, NEW.pending_log ->> 0, NEW.pending_log ->> 1, NEW.pending_log ->> 2,
            NEW.pending_log ->> 3, NEW.pending_log ->> 4, NEW.pending_log ->> 5,
            NEW.pending_log ->> 6, NEW.pending_log ->> 7, NEW.pending_log ->> 8);
    INSERT INTO moderation_log
        (action, actor, target_kind, target_key, reason, before_state, after_state, detail,
         ip, bulk_id, at)
    SELECT 'item.' || log.action, log.actor, NEW.kind, NEW.object_key, log.reason,
           log.from_status, log.to_status, log.detail, log.ip, log.bulk_id, log.at
    FROM moderation_item_log AS log
    WHERE log.id = last_insert_rowid() AND log.action IN ('approve', 'reject', 'remove');
    UPDATE moderation_items SET pending_log = NULL WHERE id = NEW.id;
END;

DROP TRIGGER moderation_items_log_on_update;
CREATE TRIGGER moderation_items_log_on_update AFTER UPDATE OF version ON moderation_items
WHEN NEW.pending_log IS NOT NULL
BEGIN
    INSERT INTO moderation_item_log
        (item_id, action, actor, reason, detail, ip, from_status, to_status, bulk_id, at)
    VALUES (NEW.id, NEW.pending_log ->> 0, NEW.pending_log ->> 1, NEW.pending_log ->> 2,
            NEW.pending_log ->> 3, NEW.pending_log ->> 4, NEW.pending_log ->> 5,
            NEW.pending_log ->> 6, NEW.pending_log ->> 7, NEW.pending_log ->> 8);
    INSERT INTO moderation_log
        (action, actor, target_kind, target_key, reason, before_state, after_state, detail,
         ip, bulk_id, at)
    SELECT 'item.' || log.action, log.actor, NEW.kind, NEW.object_key, log.reason,
           log.from_status, log.to_status, log.detail, log.ip, log.bulk_id, log.at
    FROM moderation_item_log AS log
    WHERE log.id = last_insert_rowid() AND log.action IN ('approve', 'reject', 'remove');
    UPDATE moderation_items SET pending_log = NULL WHERE id = NEW.id;
END;

-- Cheaper item writes: every index entry and every trigger program a
-- statement touches is work at commit time (one write-ahead-log frame per
-- changed page) or in the statement itself.
--
-- 1. The queue index keeps only items that are not public: the review
--    queue lists held, rejected or removed items by kind. A submission is
--    held or rejected and still lands in it; an approval now only deletes
--    its entry instead of also inserting one under 'public' on another
--    page, and the public majority no longer sits in it. A listing reaches
--    it through the literal term `status <> 'public'` (see `sql.rs`):
--    SQLite and PostgreSQL use a partial index only when the query's own
--    terms imply its condition, which a bound `status = ?` cannot show.
--    Public listings by kind walk `moderation_items_status` in order, as
--    listings by status alone always did.

DROP INDEX moderation_items_queue;
CREATE INDEX moderation_items_queue ON moderation_items (status, kind, created_at, id)
    WHERE status <> 'public';

-- 2. The status-change trigger of migration 000007 fires on `version`
--    instead of `pending_log`. A status change sets both; the insert
--    trigger's `SET pending_log = NULL` sets only pending_log, and so no
--    longer starts a trigger program on every submission only to find its
--    WHEN clause false. Nothing else changes `version`.

DROP TRIGGER moderation_items_log_on_update;
CREATE TRIGGER moderation_items_log_on_update AFTER UPDATE OF version ON moderation_items
WHEN NEW.pending_log IS NOT NULL
BEGIN
    INSERT INTO moderation_item_log
        (item_id, action, actor, reason, detail, ip, from_status, to_status, bulk_id, at)
    VALUES (NEW.id, NEW.pending_log ->> 0, NEW.pending_log ->> 1, NEW.pending_log ->> 2,
            NEW.pending_log ->> 3, NEW.pending_log ->> 4, NEW.pending_log ->> 5,
            NEW.pending_log ->> 6, NEW.pending_log ->> 7, NEW.pending_log ->> 8);
    UPDATE moderation_items SET pending_log = NULL WHERE id = NEW.id;
END;

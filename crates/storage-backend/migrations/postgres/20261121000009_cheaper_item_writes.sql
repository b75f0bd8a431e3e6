-- The queue index keeps only items that are not public, as on SQLite: a
-- submission still lands in it, an approval only deletes its entry, and the
-- public majority no longer sits in it. A listing reaches it through the
-- literal term `status <> 'public'` (see `sql.rs`), which lets the planner
-- use the partial index in generic plans too.

DROP INDEX moderation_items_queue;
CREATE INDEX moderation_items_queue ON moderation_items (status, kind, created_at, id)
    WHERE status <> 'public';

-- The pending list only ever reads pending entries: indexing those alone
-- keeps both indexes as small as the queue, and a decision removes its
-- entry from them instead of moving it to another place in each.
DROP INDEX moderation_entries_queue;
DROP INDEX moderation_entries_kind_queue;
CREATE INDEX moderation_entries_queue ON moderation_entries (submitted_at, id)
    WHERE status = 'pending';
CREATE INDEX moderation_entries_kind_queue ON moderation_entries (kind, submitted_at, id)
    WHERE status = 'pending';

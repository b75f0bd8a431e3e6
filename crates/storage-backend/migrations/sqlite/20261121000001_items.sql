-- Moderated items, their flags and their log (the moderation log).
-- Times are integer microseconds since the Unix epoch (UTC), so they
-- round-trip exactly. JSON columns hold serde_json text.

CREATE TABLE moderation_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after a cleanup
    kind        TEXT    NOT NULL,
    object_key  TEXT    NOT NULL,                  -- ObjectId::to_key: i:42, u:<uuid>, s:<text>
    parent_kind TEXT,
    parent_key  TEXT,
    author_key  TEXT,                              -- AuthorKey::to_key: u:<id>, e:<identity>
    status      TEXT    NOT NULL CHECK (status IN ('public', 'held', 'rejected', 'removed')),
    reasons     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    fingerprint TEXT,
    ip          TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

-- The review queue: one status (and kind), oldest first, keyset on (created_at, id).
CREATE INDEX moderation_items_queue ON moderation_items (status, kind, created_at, id);
CREATE INDEX moderation_items_status ON moderation_items (status, created_at, id);
-- Unfiltered listing and listing by author.
CREATE INDEX moderation_items_created ON moderation_items (created_at, id);
CREATE INDEX moderation_items_author ON moderation_items (author_key, created_at, id);
-- The newest item of one object.
CREATE INDEX moderation_items_object ON moderation_items (kind, object_key, created_at, id);
-- Duplicate submissions: same author, same text, recent.
CREATE INDEX moderation_items_duplicate ON moderation_items (author_key, fingerprint, created_at)
    WHERE fingerprint IS NOT NULL;
-- First-timer rule: does this author have a public item of this kind?
CREATE INDEX moderation_items_author_public ON moderation_items (kind, author_key)
    WHERE status = 'public';

CREATE TABLE moderation_item_flags (
    item_id INTEGER NOT NULL REFERENCES moderation_items (id) ON DELETE CASCADE,
    flagger TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (item_id, flagger)
);

CREATE TABLE moderation_item_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     INTEGER NOT NULL REFERENCES moderation_items (id) ON DELETE CASCADE,
    action      TEXT    NOT NULL,
    actor       TEXT,
    reason      TEXT,
    detail      TEXT    NOT NULL,
    ip          TEXT,
    from_status TEXT,
    to_status   TEXT,
    bulk_id     TEXT,
    at          INTEGER NOT NULL
);

CREATE INDEX moderation_item_log_item ON moderation_item_log (item_id, id);
CREATE INDEX moderation_item_log_bulk ON moderation_item_log (bulk_id) WHERE bulk_id IS NOT NULL;

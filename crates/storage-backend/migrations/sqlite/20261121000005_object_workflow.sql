-- The object moderation workflow: one record per moderated object and one
-- row per submitted revision (entry). Times are integer microseconds (UTC);
-- versions are JSON text. Keys are ObjectId::to_key (i:42, u:<uuid>, s:<text>).

CREATE TABLE moderated_objects (
    kind             TEXT    NOT NULL,
    object_key       TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('draft', 'ready')),
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by       TEXT,
    decided_at       INTEGER,
    reason           TEXT,
    public_version   TEXT,                      -- NULL: hidden from public reads
    approved_version TEXT,                      -- NULL: never approved
    current_version  TEXT    NOT NULL,
    revision         INTEGER NOT NULL,          -- the newest entry's revision, 0 for none
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    -- A public read, `filter_public` and public pages are lookups or range
    -- scans on this key: their cost never grows with the table.
    PRIMARY KEY (kind, object_key)
);

CREATE TABLE moderation_entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    snapshot     TEXT    NOT NULL,
    submitted_by TEXT,
    submitted_at INTEGER NOT NULL,
    decided_by   TEXT,
    decided_at   INTEGER,
    reason       TEXT,
    version      INTEGER NOT NULL,
    FOREIGN KEY (kind, object_key) REFERENCES moderated_objects (kind, object_key),
    -- The history of one object and its newest entry.
    UNIQUE (kind, object_key, revision)
);

-- The pending list, oldest first, keyset on (submitted_at, id); with and
-- without a kind filter.
CREATE INDEX moderation_entries_queue ON moderation_entries (status, submitted_at, id);
CREATE INDEX moderation_entries_kind_queue ON moderation_entries (kind, status, submitted_at, id);

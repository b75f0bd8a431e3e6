-- The whole schema of the SQLite store, in one migration.
-- Times are integer microseconds since the Unix epoch (UTC), so they
-- round-trip exactly. No trigger writes rows: every log entry is written by
-- the store, in the transaction of the change it records.
-- Status CHECKs are equalities: SQLite checks an IN list through a
-- temporary index for every row written.

-- Moderated items, their flags and their log (the item log; moderator actions
-- on items also go to moderation_log, written by the store in the same transaction).
-- Times are integer microseconds since the Unix epoch (UTC), so they
-- round-trip exactly. JSON columns hold serde_json text.

CREATE TABLE moderation_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after a cleanup
    kind        TEXT    NOT NULL,
    object_key  TEXT    NOT NULL,                  -- ObjectId::to_key: i:42, u:<uuid>, s:<text>
    parent_kind TEXT,
    parent_key  TEXT,
    author_key  TEXT,                              -- AuthorKey::to_key: u:<id>, e:<identity>
    status      TEXT    NOT NULL CHECK (status = 'public' OR status = 'held' OR status = 'rejected' OR status = 'removed'),
    reasons     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    fingerprint TEXT,
    ip          TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

-- The review queue: one status (and kind), oldest first, keyset on (created_at, id).
-- Items that are not public, by status and kind: the majority (public) stays
-- out of it. A listing reaches it through the literal term `status <> 'public'`.
CREATE INDEX moderation_items_queue ON moderation_items (status, kind, created_at, id)
    WHERE status <> 'public';
CREATE INDEX moderation_items_status ON moderation_items (status, created_at, id);
-- Unfiltered listing and listing by author.
CREATE INDEX moderation_items_created ON moderation_items (created_at, id);
CREATE INDEX moderation_items_author ON moderation_items (author_key, created_at, id);
-- The newest item of one object.
CREATE INDEX moderation_items_object ON moderation_items (kind, object_key, created_at, id);
-- The items under one parent (a post's comments), by status, in page order.
CREATE INDEX moderation_items_parent ON moderation_items (parent_kind, parent_key, status, created_at, id);
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

-- Bans of moderation-misery's BanStore port.
-- Times are integer microseconds since the Unix epoch (UTC), as in the item
-- tables, so they round-trip exactly. A target is a user id (`user`) or an
-- IP network in its canonical CIDR text, e.g. `2001:db8::/32` (`network`).

CREATE TABLE misery_bans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after a removal
    target_kind TEXT    NOT NULL CHECK (target_kind IN ('user', 'network')),
    target      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,                  -- BanKind::as_str: misery, hellban, hard_ban
    reason      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);

-- Listing, oldest first.
CREATE INDEX misery_bans_created ON misery_bans (created_at, id);

-- The moderation log (every staff action) and the audit trail (who did what
-- from which IP). Times are integer microseconds since the Unix epoch (UTC).
--
-- IP keys are text that sorts like the address, so a CIDR is one range
-- query on an index: an address is the 32 lower-case hex digits of its
-- 16-byte IPv6 form (IPv4 as ::ffff:a.b.c.d); a keyed hash (HMAC privacy
-- mode) is `k:` and 64 hex digits, which no address range can reach.

CREATE TABLE moderation_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused; breaks ties within one microsecond
    action       TEXT    NOT NULL,                  -- a verb: review.approve, sanction.freeze, ...
    actor        TEXT,                              -- NULL for the system or an erased actor
    target_kind  TEXT    NOT NULL,
    target_key   TEXT    NOT NULL,                  -- ObjectId::to_key
    reason       TEXT,
    before_state TEXT,
    after_state  TEXT,
    detail       TEXT    NOT NULL,                  -- serde_json text
    ip           TEXT,                              -- the address as text; cleared by retention
    bulk_id      TEXT,
    at           INTEGER NOT NULL
);

-- Pages newest first, overall, by actor and by target.
CREATE INDEX moderation_log_at ON moderation_log (at, id);
CREATE INDEX moderation_log_actor ON moderation_log (actor, at, id);
CREATE INDEX moderation_log_target ON moderation_log (target_kind, target_key, at, id);
CREATE INDEX moderation_log_bulk ON moderation_log (bulk_id) WHERE bulk_id IS NOT NULL;
-- Retention: only rows still holding an IP, so its cost does not grow with history.
CREATE INDEX moderation_log_ip_at ON moderation_log (at) WHERE ip IS NOT NULL;

CREATE TABLE audit_records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor       TEXT,                               -- NULL for anonymous actions recorded by IP
    ip          TEXT,                               -- IP key (see above)
    ip_group    TEXT,                               -- the /64 of an IPv6 address, else the IP key
    target_kind TEXT    NOT NULL,
    target_key  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    at          INTEGER NOT NULL
);

CREATE INDEX audit_records_at ON audit_records (at, id);
CREATE INDEX audit_records_actor ON audit_records (actor, at, id);
CREATE INDEX audit_records_ip ON audit_records (ip, at, id);
CREATE INDEX audit_records_target ON audit_records (target_kind, target_key, at, id);
-- Sock-puppet lookup: who else was seen from these groups in the window.
CREATE INDEX audit_records_group ON audit_records (ip_group, at, actor);

-- Retention of the IPs other tables keep.
CREATE INDEX moderation_items_ip_created ON moderation_items (created_at) WHERE ip IS NOT NULL;
CREATE INDEX moderation_item_log_ip_at ON moderation_item_log (at) WHERE ip IS NOT NULL;

-- The review queue (D8): one row per review item, the codes of its reasons
-- for filtering, and its history. Nothing here is ever deleted by
-- moderation: delete is a status. Times are integer microseconds (UTC).

CREATE TABLE review_items (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_key      TEXT    NOT NULL,                 -- ReviewSubject::key
    kind             TEXT    NOT NULL,
    author_key       TEXT,                             -- AuthorKey::to_key
    reasons          TEXT    NOT NULL,                 -- JSON array of ReviewReason
    score            INTEGER NOT NULL,                 -- sum of the reasons' scores
    status           TEXT    NOT NULL CHECK (status = 'pending' OR status = 'approved' OR status = 'rejected' OR status = 'ignored' OR status = 'deleted'),
    priority         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    claimed_by       TEXT,
    claim_expires_at INTEGER,
    version          INTEGER NOT NULL DEFAULT 1
);

-- At most one pending item per subject; `open` merges into it.
CREATE UNIQUE INDEX review_items_pending_subject ON review_items (subject_key)
    WHERE status = 'pending';
-- The newest item of a subject, whatever its status.
CREATE INDEX review_items_subject ON review_items (subject_key, id);
-- The queue by age and by score, per status and overall (keyset on the id).
CREATE INDEX review_items_status_created ON review_items (status, created_at, id);
CREATE INDEX review_items_status_score ON review_items (status, score DESC, id);
CREATE INDEX review_items_created ON review_items (created_at, id);
CREATE INDEX review_items_score ON review_items (score DESC, id);
-- Filters by kind and by author.
CREATE INDEX review_items_kind ON review_items (kind, status, created_at, id);
CREATE INDEX review_items_author ON review_items (author_key, created_at, id);
-- Who holds what.
CREATE INDEX review_items_claim ON review_items (claimed_by, claim_expires_at)
    WHERE claimed_by IS NOT NULL;

CREATE TABLE review_reason_codes (
    review_id INTEGER NOT NULL REFERENCES review_items (id),
    code      TEXT    NOT NULL,
    PRIMARY KEY (review_id, code)
);
-- Filter by reason: items having a code.
CREATE INDEX review_reason_codes_code ON review_reason_codes (code, review_id);

CREATE TABLE review_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    review_id   INTEGER NOT NULL REFERENCES review_items (id),
    event       TEXT    NOT NULL,
    actor       TEXT,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    reason      TEXT,
    message     TEXT,
    bulk_id     TEXT,
    at          INTEGER NOT NULL
);

CREATE INDEX review_history_review ON review_history (review_id, id);
CREATE INDEX review_history_bulk ON review_history (bulk_id) WHERE bulk_id IS NOT NULL;

-- The object moderation workflow: one record per moderated object and one
-- row per submitted revision (entry). Times are integer microseconds (UTC);
-- versions are JSON text. Keys are ObjectId::to_key (i:42, u:<uuid>, s:<text>).

CREATE TABLE moderated_objects (
    kind             TEXT    NOT NULL,
    object_key       TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('draft', 'ready')),
    status           TEXT    NOT NULL CHECK (status = 'pending' OR status = 'approved' OR status = 'rejected'),
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
    status       TEXT    NOT NULL CHECK (status = 'pending' OR status = 'approved' OR status = 'rejected' OR status = 'superseded'),
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
-- The pending list only ever reads pending entries: indexing those alone keeps
-- both indexes as small as the queue.
CREATE INDEX moderation_entries_queue ON moderation_entries (submitted_at, id)
    WHERE status = 'pending';
CREATE INDEX moderation_entries_kind_queue ON moderation_entries (kind, submitted_at, id)
    WHERE status = 'pending';

-- Community rules: the action log rate limits count, sanctions (freezes),
-- and trust levels with their change history.
-- Times are integer microseconds since the Unix epoch (UTC), as in the item
-- tables. Users are stored by their id text (UserId::as_str).
-- The columns match on both backends so they share their queries.

-- Every accepted action. Limits ask "the n-th most recent action of these
-- kinds after t", answered from (user_id, action, at) without reading
-- anything older than the window.
CREATE TABLE community_actions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL,
    action      TEXT    NOT NULL,   -- ActionKind::as_str
    at          INTEGER  NOT NULL,
    fingerprint TEXT                -- text_fingerprint of posts, for the duplicate check
);
CREATE INDEX community_actions_user_action_at ON community_actions (user_id, action, at);
CREATE INDEX community_actions_user_fingerprint_at ON community_actions (user_id, fingerprint, at)
    WHERE fingerprint IS NOT NULL;

-- The hosts each logged post linked to, for the same-host spam check.
CREATE TABLE community_action_hosts (
    action_id   INTEGER  NOT NULL REFERENCES community_actions (id),
    user_id     TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    at          INTEGER  NOT NULL,
    PRIMARY KEY (action_id, host)
);
CREATE INDEX community_action_hosts_user_host_at ON community_action_hosts (user_id, host, at);

-- Sanctions. Never deleted: lifting sets lifted_at / lifted_by.
CREATE TABLE community_sanctions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,   -- SanctionKind::as_str
    reason      TEXT    NOT NULL,
    imposed_by  TEXT,               -- NULL: imposed by a rule
    at          INTEGER  NOT NULL,
    expires_at  INTEGER,
    lifted_by   TEXT,
    lifted_at   INTEGER,
    cause       TEXT                -- the review item that caused it
);
CREATE INDEX community_sanctions_user ON community_sanctions (user_id, at, id);
CREATE INDEX community_sanctions_cause ON community_sanctions (cause) WHERE lifted_at IS NULL;

-- Each member's level in force.
CREATE TABLE community_trust (
    user_id     TEXT    PRIMARY KEY,
    level       INTEGER  NOT NULL CHECK (level BETWEEN 0 AND 4),
    locked      INTEGER NOT NULL CHECK (locked IN (0, 1)),
    updated_at  INTEGER  NOT NULL
);

-- Every change of level or lock, written in the same transaction.
CREATE TABLE community_trust_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL,
    from_level  INTEGER  CHECK (from_level BETWEEN 0 AND 4),
    to_level    INTEGER  NOT NULL CHECK (to_level BETWEEN 0 AND 4),
    locked      INTEGER NOT NULL CHECK (locked IN (0, 1)),
    changed_by  TEXT,               -- NULL: activity
    reason      TEXT    NOT NULL,
    at          INTEGER  NOT NULL
);
CREATE INDEX community_trust_history_user ON community_trust_history (user_id, id);

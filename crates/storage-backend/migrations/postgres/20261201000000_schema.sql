-- The whole schema of the PostgreSQL store, in one migration.
-- Times are integer microseconds since the Unix epoch (UTC), so they
-- round-trip exactly. No trigger writes rows: every log entry is written by
-- the store, in the transaction of the change it records.

-- Moderated items, their flags and their log (the item log; moderator actions
-- on items also go to moderation_log, written by the store in the same transaction).
-- Times are integer microseconds since the Unix epoch (UTC), so they
-- round-trip exactly. JSON columns are JSONB here and serde_json text on SQLite; one Rust
-- type binds both, so the backends share their queries.

CREATE TABLE moderation_items (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT    NOT NULL,
    object_key  TEXT    NOT NULL,                  -- ObjectId::to_key: i:42, u:<uuid>, s:<text>
    parent_kind TEXT,
    parent_key  TEXT,
    author_key  TEXT,                              -- AuthorKey::to_key: u:<id>, e:<identity>
    status      TEXT    NOT NULL CHECK (status IN ('public', 'held', 'rejected', 'removed')),
    reasons     JSONB   NOT NULL,
    payload     JSONB   NOT NULL,
    fingerprint TEXT,
    ip          TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    version     BIGINT  NOT NULL DEFAULT 1
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
    item_id BIGINT  NOT NULL REFERENCES moderation_items (id) ON DELETE CASCADE,
    flagger TEXT    NOT NULL,
    at      BIGINT  NOT NULL,
    PRIMARY KEY (item_id, flagger)
);

CREATE TABLE moderation_item_log (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id     BIGINT  NOT NULL REFERENCES moderation_items (id) ON DELETE CASCADE,
    action      TEXT    NOT NULL,
    actor       TEXT,
    reason      TEXT,
    detail      JSONB   NOT NULL,
    ip          TEXT,
    from_status TEXT,
    to_status   TEXT,
    bulk_id     TEXT,
    at          BIGINT  NOT NULL
);

CREATE INDEX moderation_item_log_item ON moderation_item_log (item_id, id);
CREATE INDEX moderation_item_log_bulk ON moderation_item_log (bulk_id) WHERE bulk_id IS NOT NULL;

-- Bans of moderation-misery's BanStore port.
-- Times are integer microseconds since the Unix epoch (UTC), as in the item
-- tables, so they round-trip exactly. A target is a user id (`user`) or an
-- IP network in its canonical CIDR text, e.g. `2001:db8::/32` (`network`).
-- The columns match the SQLite schema so both backends share their queries.

CREATE TABLE misery_bans (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused, even after a removal
    target_kind TEXT    NOT NULL CHECK (target_kind IN ('user', 'network')),
    target      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,                  -- BanKind::as_str: misery, hellban, hard_ban
    reason      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT
);

-- Listing, oldest first.
CREATE INDEX misery_bans_created ON misery_bans (created_at, id);

-- The moderation log (every staff action) and the audit trail (who did what
-- from which IP). Times are integer microseconds since the Unix epoch (UTC).
--
-- IP keys are text that sorts like the address (byte order: the "C"
-- collation), so a CIDR is one range query on an index: an address is the
-- 32 lower-case hex digits of its 16-byte IPv6 form (IPv4 as
-- ::ffff:a.b.c.d); a keyed hash (HMAC privacy mode) is `k:` and 64 hex
-- digits, which no address range can reach.

CREATE TABLE moderation_log (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- breaks ties within one microsecond
    action       TEXT    NOT NULL,                  -- a verb: review.approve, sanction.freeze, ...
    actor        TEXT,                              -- NULL for the system or an erased actor
    target_kind  TEXT    NOT NULL,
    target_key   TEXT    NOT NULL,                  -- ObjectId::to_key
    reason       TEXT,
    before_state TEXT,
    after_state  TEXT,
    detail       JSONB   NOT NULL,
    ip           TEXT,                              -- the address as text; cleared by retention
    bulk_id      TEXT,
    at           BIGINT  NOT NULL
);

-- Pages newest first, overall, by actor and by target.
CREATE INDEX moderation_log_at ON moderation_log (at, id);
CREATE INDEX moderation_log_actor ON moderation_log (actor, at, id);
CREATE INDEX moderation_log_target ON moderation_log (target_kind, target_key, at, id);
CREATE INDEX moderation_log_bulk ON moderation_log (bulk_id) WHERE bulk_id IS NOT NULL;
-- Retention: only rows still holding an IP, so its cost does not grow with history.
CREATE INDEX moderation_log_ip_at ON moderation_log (at) WHERE ip IS NOT NULL;

CREATE TABLE audit_records (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor       TEXT COLLATE "C",                   -- NULL for anonymous actions recorded by IP; byte order ranks ties as in memory
    ip          TEXT COLLATE "C",                   -- IP key (see above)
    ip_group    TEXT COLLATE "C",                   -- the /64 of an IPv6 address, else the IP key
    target_kind TEXT    NOT NULL,
    target_key  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    detail      JSONB   NOT NULL,
    at          BIGINT  NOT NULL
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
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_key      TEXT    NOT NULL,                 -- ReviewSubject::key
    kind             TEXT    NOT NULL,
    author_key       TEXT,                             -- AuthorKey::to_key
    reasons          JSONB   NOT NULL,                 -- JSON array of ReviewReason
    score            BIGINT  NOT NULL,                 -- sum of the reasons' scores
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'ignored', 'deleted')),
    priority         INTEGER NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    claimed_by       TEXT,
    claim_expires_at BIGINT,
    version          BIGINT  NOT NULL DEFAULT 1
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
    review_id BIGINT  NOT NULL REFERENCES review_items (id),
    code      TEXT    NOT NULL,
    PRIMARY KEY (review_id, code)
);
-- Filter by reason: items having a code.
CREATE INDEX review_reason_codes_code ON review_reason_codes (code, review_id);

CREATE TABLE review_history (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id   BIGINT  NOT NULL REFERENCES review_items (id),
    event       TEXT    NOT NULL,
    actor       TEXT,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    reason      TEXT,
    message     TEXT,
    bulk_id     TEXT,
    at          BIGINT  NOT NULL
);

CREATE INDEX review_history_review ON review_history (review_id, id);
CREATE INDEX review_history_bulk ON review_history (bulk_id) WHERE bulk_id IS NOT NULL;

-- The object moderation workflow: one record per moderated object and one
-- row per submitted revision (entry). Times are integer microseconds (UTC);
-- versions are JSONB. Keys are ObjectId::to_key (i:42, u:<uuid>, s:<text>).

CREATE TABLE moderated_objects (
    kind             TEXT    NOT NULL,
    object_key       TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('draft', 'ready')),
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by       TEXT,
    decided_at       BIGINT,
    reason           TEXT,
    public_version   JSONB,                      -- NULL: hidden from public reads
    approved_version JSONB,                      -- NULL: never approved
    current_version  JSONB   NOT NULL,
    revision         BIGINT  NOT NULL,          -- the newest entry's revision, 0 for none
    version          BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    -- A public read, `filter_public` and public pages are lookups or range
    -- scans on this key: their cost never grows with the table.
    PRIMARY KEY (kind, object_key)
);

CREATE TABLE moderation_entries (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    revision     BIGINT  NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    snapshot     JSONB   NOT NULL,
    submitted_by TEXT,
    submitted_at BIGINT  NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT,
    reason       TEXT,
    version      BIGINT  NOT NULL,
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
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    action      TEXT    NOT NULL,   -- ActionKind::as_str
    at          BIGINT  NOT NULL,
    fingerprint TEXT                -- text_fingerprint of posts, for the duplicate check
);
CREATE INDEX community_actions_user_action_at ON community_actions (user_id, action, at);
CREATE INDEX community_actions_user_fingerprint_at ON community_actions (user_id, fingerprint, at)
    WHERE fingerprint IS NOT NULL;

-- The hosts each logged post linked to, for the same-host spam check.
CREATE TABLE community_action_hosts (
    action_id   BIGINT  NOT NULL REFERENCES community_actions (id),
    user_id     TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    PRIMARY KEY (action_id, host)
);
CREATE INDEX community_action_hosts_user_host_at ON community_action_hosts (user_id, host, at);

-- Sanctions. Never deleted: lifting sets lifted_at / lifted_by.
CREATE TABLE community_sanctions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,   -- SanctionKind::as_str
    reason      TEXT    NOT NULL,
    imposed_by  TEXT,               -- NULL: imposed by a rule
    at          BIGINT  NOT NULL,
    expires_at  BIGINT,
    lifted_by   TEXT,
    lifted_at   BIGINT,
    cause       TEXT                -- the review item that caused it
);
CREATE INDEX community_sanctions_user ON community_sanctions (user_id, at, id);
CREATE INDEX community_sanctions_cause ON community_sanctions (cause) WHERE lifted_at IS NULL;

-- Each member's level in force.
CREATE TABLE community_trust (
    user_id     TEXT    PRIMARY KEY,
    level       BIGINT  NOT NULL CHECK (level BETWEEN 0 AND 4),
    locked      BOOLEAN NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- Every change of level or lock, written in the same transaction.
CREATE TABLE community_trust_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    from_level  BIGINT  CHECK (from_level BETWEEN 0 AND 4),
    to_level    BIGINT  NOT NULL CHECK (to_level BETWEEN 0 AND 4),
    locked      BOOLEAN NOT NULL,
    changed_by  TEXT,               -- NULL: activity
    reason      TEXT    NOT NULL,
    at          BIGINT  NOT NULL
);
CREATE INDEX community_trust_history_user ON community_trust_history (user_id, id);

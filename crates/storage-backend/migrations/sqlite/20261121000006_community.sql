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

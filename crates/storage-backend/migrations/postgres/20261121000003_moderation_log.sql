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
    detail       TEXT    NOT NULL,                  -- serde_json text
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
    detail      TEXT    NOT NULL,
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

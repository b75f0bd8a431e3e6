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

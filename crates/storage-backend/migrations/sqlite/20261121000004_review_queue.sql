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
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'ignored', 'deleted')),
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

"""What SQLite itself takes for the SQLite store's single writes and reads.

The storage bench measures the store through sqlx, which runs each SQLite
connection on a thread of its own: every statement is a message to that
thread and an answer back. This script runs the store's own statements on
its own schema from Python's `sqlite3` module, on the calling thread, with
no driver thread and no Rust code in between, so the figures it prints are
a floor under the store's on the same machine: what the statements, the
indexes, the triggers and the commits cost by themselves.

    cargo run -p moderation-examples --example quickstart   # writes moderation.db
    python3 benches/sqlite_floor/floor.py moderation.db

The schema (tables, indexes, triggers, views) is copied from the database
given, into a fresh file in a temporary directory, with the store's
connection settings: WAL, `synchronous = NORMAL`, foreign keys on, 16 MiB of
page cache. The store leaves checkpoints to a task of its own, so the timed
operations run none: every 100 operations the clock stops while the log is
checkpointed and restarted, and the next commits write over it from its
start, as the store's do in its steady state. The file is filled with
10 000 held comments, then each operation runs 2 000 times, three times
over; the best run is printed, in microseconds per operation:

- `submit`: a held comment and its log entry, one autocommit statement
  (`sql::sqlite::INSERT_ITEM_WITH_LOG`);
- `approve`: a held comment made public with its log entry, one autocommit
  statement returning the item (`sql::sqlite::CHANGE_STATUS_WITH_LOG`);
- `read`: one item by id (`sql::SELECT_ITEM`);
- `statement`: `SELECT 1`, Python's own cost per statement, which the three
  figures above include.
"""

import json
import os
import sqlite3
import sys
import tempfile
import time

ITEMS = 10_000
RUNS = 3
OPS = 2_000
# Operations between two checkpoints, which are not timed.
CHUNK = 100
BASE_TIME = 1_795_000_000_000_000

SETTINGS = (
    "journal_mode = WAL",
    "synchronous = NORMAL",
    "foreign_keys = ON",
    "cache_size = -16384",
    "temp_store = MEMORY",
    "wal_autocheckpoint = 0",
)

SUBMIT = (
    "INSERT INTO moderation_items (kind, object_key, parent_kind, parent_key, "
    "author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, "
    "pending_log) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "json_array(?, ?, ?, ?, ?, ?, ?, ?, ?))"
)

APPROVE = (
    "UPDATE moderation_items SET status = ?, updated_at = ?, version = version + 1, "
    "pending_log = json_array(?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "WHERE id = ? AND version = ? RETURNING *"
)

READ = "SELECT * FROM moderation_items WHERE id = ?"


def schema(path):
    """The store's own tables, indexes, views and triggers, in creation order."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    order = "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END"
    rows = source.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' "
        f"ORDER BY {order}, rowid"
    ).fetchall()
    source.close()
    return [sql for (sql,) in rows]


def held_comment(n):
    """The values of `SUBMIT` for comment `n`, as the storage bench writes it."""
    author = f"u:{1_000 + n % 97}"
    at = BASE_TIME + n
    payload = json.dumps(
        {
            "id": n,
            "author": "reader",
            "body": "Thanks for the write-up; the part about keyset pagination helped a lot.",
        }
    )
    reasons = json.dumps(
        [{"code": "first_timer", "message": "First submissions are reviewed by a moderator"}]
    )
    item = ("blog.comment", f"i:{n}", "blog.entry", "i:1", author, "held", reasons,
            payload, f"{n:016x}", None, at, at)
    log = ("submit_held", author, None, '{"reasons":["first_timer"]}', None, None,
           "held", None, at)
    return item + log


def approval(n):
    """The values of `APPROVE` making item `n` public."""
    at = BASE_TIME + 10 * ITEMS + n
    log = ("approve", "u:1", None, "{}", None, "held", "public", None, at)
    return ("public", at) + log + (n, 1)


def best(db, label, operation, first):
    """Runs `operation(n)` for `OPS` fresh values of n, `RUNS` times; prints the best."""
    runs = []
    for run in range(RUNS):
        spent = 0.0
        for chunk in range(first + run * OPS, first + (run + 1) * OPS, CHUNK):
            db.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            began = time.perf_counter()
            for n in range(chunk, chunk + CHUNK):
                operation(n)
            spent += time.perf_counter() - began
        runs.append(spent / OPS * 1e6)
    spread = ", ".join(f"{r:.1f}" for r in runs)
    print(f"{label} {min(runs):.1f} us/op (runs: {spread})")


def main(path):
    statements = schema(path)
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(os.path.join(folder, "floor.db"), isolation_level=None)
        for setting in SETTINGS:
            db.execute(f"PRAGMA {setting}")
        for statement in statements:
            db.execute(statement)
        db.execute("BEGIN")
        for n in range(1, ITEMS + 1):
            db.execute(SUBMIT, held_comment(n))
        db.execute("COMMIT")

        best(db, "submit", lambda n: db.execute(SUBMIT, held_comment(n)), ITEMS + 1)
        best(db, "approve", lambda n: db.execute(APPROVE, approval(n)).fetchall(), 1)
        best(db, "read", lambda n: db.execute(READ, (n,)).fetchone(), RUNS * OPS + 1)
        best(db, "statement", lambda n: db.execute("SELECT 1").fetchone(), 1)
        db.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: floor.py PATH_TO_A_STORE_DATABASE (e.g. the quickstart's moderation.db)")
    main(sys.argv[1])

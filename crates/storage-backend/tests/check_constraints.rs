//! The status CHECK constraints of the SQLite schema: each table accepts
//! exactly its statuses, and writing a row builds no temporary index (the
//! checks are equalities: SQLite checks an `IN` list of more than two
//! values through a temporary index for every row written).
#![allow(
    clippy::unwrap_used,
    reason = "a helper that cannot set up or read the database fails the test"
)]

use std::path::{Path, PathBuf};
use std::str::FromStr;

use moderation_storage::{SqliteOptions, StorageError};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

/// One table's status column: the statuses it takes, and an insert that
/// writes a row with the status bound as `?1` (and `?2` making the row's
/// key unique).
struct StatusColumn {
    table: &'static str,
    statuses: &'static [&'static str],
    insert: &'static str,
}

const COLUMNS: [StatusColumn; 4] = [
    StatusColumn {
        table: "moderation_items",
        statuses: &["public", "held", "rejected", "removed"],
        insert: "INSERT INTO moderation_items (kind, object_key, status, reasons, payload, \
                 created_at, updated_at) VALUES ('blog.comment', 'i:' || ?2, ?1, '[]', '{}', 1, 1)",
    },
    StatusColumn {
        table: "review_items",
        statuses: &["pending", "approved", "rejected", "ignored", "deleted"],
        insert: "INSERT INTO review_items (subject_key, kind, reasons, score, status, priority, \
                 created_at, updated_at) VALUES ('submission:' || ?2, 'blog.comment', '[]', 1, ?1, \
                 0, 1, 1)",
    },
    StatusColumn {
        table: "moderated_objects",
        statuses: &["pending", "approved", "rejected"],
        insert: "INSERT INTO moderated_objects (kind, object_key, state, status, current_version, \
                 revision, version, created_at, updated_at) VALUES ('profile', 'i:' || ?2, \
                 'draft', ?1, '{}', 0, 1, 1, 1)",
    },
    StatusColumn {
        table: "moderation_entries",
        statuses: &["pending", "approved", "rejected", "superseded"],
        insert: "INSERT INTO moderation_entries (kind, object_key, revision, status, snapshot, \
                 submitted_at, version) VALUES ('profile', 'i:0', ?2, ?1, '{}', 1, 1)",
    },
];

/// A database path in a new temporary directory, deleted with it.
fn temporary_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moderation.db");
    (dir, path)
}

/// A connection to `path` as the store's own are set up: foreign keys on.
async fn connect(path: &Path) -> Result<SqliteConnection, StorageError> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    Ok(SqliteConnection::connect_with(&options).await?)
}

/// Writes one row of every status into every table (the entries belong to
/// the object `profile` `i:0`), then checks that a status outside each
/// list is refused.
async fn write_every_status(conn: &mut SqliteConnection) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT OR IGNORE INTO moderated_objects (kind, object_key, state, status, \
         current_version, revision, version, created_at, updated_at) \
         VALUES ('profile', 'i:0', 'draft', 'pending', '{}', 0, 1, 1, 1)",
    )
    .execute(&mut *conn)
    .await?;
    let mut key = 0;
    for column in &COLUMNS {
        for status in column.statuses {
            key += 1;
            sqlx::query(column.insert)
                .bind(*status)
                .bind(key)
                .execute(&mut *conn)
                .await?;
        }
        key += 1;
        let refused = sqlx::query(column.insert)
            .bind("bogus")
            .bind(key)
            .execute(&mut *conn)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("CHECK constraint failed"),
            "{}: {refused}",
            column.table
        );
    }
    Ok(())
}

/// Asserts that every status check compares in place (equalities, where
/// an `IN` list of more than two values makes SQLite build a temporary
/// index for each row written) and that the file is sound.
async fn assert_checks_in_place(conn: &mut SqliteConnection) -> Result<(), StorageError> {
    for column in &COLUMNS {
        let sql: String =
            sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
                .bind(column.table)
                .fetch_one(&mut *conn)
                .await?;
        let equalities = column
            .statuses
            .iter()
            .map(|status| format!("status = '{status}'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert!(
            sql.contains(&format!("CHECK ({equalities})")),
            "{}: {sql}",
            column.table
        );
        assert!(!sql.contains("status IN ("), "{}: {sql}", column.table);
    }
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await?;
    assert_eq!(integrity, ["ok"]);
    Ok(())
}

/// The program of an insert into `column`'s table opens no temporary
/// table.
async fn assert_insert_builds_no_index(
    conn: &mut SqliteConnection,
    column: &StatusColumn,
) -> Result<(), StorageError> {
    let sql = format!("EXPLAIN {}", column.insert);
    // EXPLAIN rows: address, opcode, operands, comment.
    let program: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("held")
        .bind(0_i64)
        .fetch_all(&mut *conn)
        .await?;
    assert!(!program.is_empty(), "{}: no program", column.table);
    assert!(
        !program.iter().any(|(_, opcode)| opcode == "OpenEphemeral"),
        "{}: writing a row builds a temporary index",
        column.table
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_status_checks_accept_exactly_their_statuses_without_a_temporary_index()
-> Result<(), StorageError> {
    let (_dir, path) = temporary_file();
    SqliteOptions::new(&path).open().await?.close().await;
    let mut conn = connect(&path).await?;
    write_every_status(&mut conn).await?;
    assert_checks_in_place(&mut conn).await?;
    for column in &COLUMNS {
        assert_insert_builds_no_index(&mut conn, column).await?;
    }
    conn.close().await?;
    Ok(())
}

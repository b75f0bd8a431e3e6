//! Erasure batches for [`SqliteStore`] (see `erasure`): each batch is one
//! write of its own.

use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::erasure::{BATCH_OFFSET, ERASE_BATCH, FIRST_KEY, ID_SPAN, LAST_KEY, Sweep};
use crate::error::StorageError;

impl SqliteStore {
    /// Runs `sweep` over the rows of `user` (the value its statements bind
    /// as `$1`), one write per batch; returns how many rows it changed.
    pub(crate) async fn sweep(&self, sweep: Sweep, user: String) -> Result<u64, StorageError> {
        let mut total = 0;
        match sweep {
            Sweep::Shrinking(statement) => loop {
                let user = user.clone();
                let changed = self
                    .write(move |conn| Box::pin(shrink_batch(conn, statement, user)))
                    .await?;
                total += changed;
                if changed < ERASE_BATCH.unsigned_abs() {
                    break;
                }
            },
            Sweep::Keyset { end, apply } => {
                let mut after = Some(FIRST_KEY);
                while let Some(from) = after {
                    let user = user.clone();
                    let (changed, last) = self
                        .write(move |conn| Box::pin(keyset_batch(conn, end, apply, user, from)))
                        .await?;
                    total += changed;
                    after = last;
                }
            }
            Sweep::IdRange { last, apply } => {
                let last_id: i64 = {
                    let mut conn = self.reader().await?;
                    sqlx::query_scalar(last).fetch_one(&mut *conn).await?
                };
                let mut after = 0;
                while after < last_id {
                    let (user, upto) = (user.clone(), after.saturating_add(ID_SPAN));
                    total += self
                        .write(move |conn| Box::pin(range_batch(conn, apply, user, after, upto)))
                        .await?;
                    after = upto;
                }
            }
        }
        Ok(total)
    }
}

/// One batch of a [`Sweep::Shrinking`]: at most [`ERASE_BATCH`] rows of
/// `user`; returns how many it changed.
pub(crate) async fn shrink_batch(
    conn: &mut SqliteConnection,
    statement: &'static str,
    user: String,
) -> Result<u64, StorageError> {
    let done = sqlx::query(statement)
        .bind(user)
        .bind(ERASE_BATCH)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// One batch of a [`Sweep::Keyset`]: the rows of `user` after the key
/// `after`, up to [`ERASE_BATCH`] of them; returns how many it changed and
/// the key the next batch starts after (`None`: this was the last).
pub(crate) async fn keyset_batch(
    conn: &mut SqliteConnection,
    end: &'static str,
    apply: &'static str,
    user: String,
    after: (i64, i64),
) -> Result<(u64, Option<(i64, i64)>), StorageError> {
    let last: Option<(i64, i64)> = sqlx::query_as(end)
        .bind(&user)
        .bind(after.0)
        .bind(after.1)
        .bind(BATCH_OFFSET)
        .fetch_optional(&mut *conn)
        .await?;
    let upto = last.unwrap_or(LAST_KEY);
    let done = sqlx::query(apply)
        .bind(user)
        .bind(after.0)
        .bind(after.1)
        .bind(upto.0)
        .bind(upto.1)
        .execute(&mut *conn)
        .await?;
    Ok((done.rows_affected(), last))
}

/// One batch of a [`Sweep::IdRange`]: the rows of `user` with
/// `after < id <= upto`; returns how many it changed.
pub(crate) async fn range_batch(
    conn: &mut SqliteConnection,
    apply: &'static str,
    user: String,
    after: i64,
    upto: i64,
) -> Result<u64, StorageError> {
    let done = sqlx::query(apply)
        .bind(user)
        .bind(after)
        .bind(upto)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

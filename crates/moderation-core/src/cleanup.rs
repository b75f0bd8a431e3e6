//! Cleanup of old non-public items (B11), as a library function.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::error::ModerationError;
use crate::ids::{ItemId, ObjectRef};
use crate::store::{Cursor, ItemStatus, ModerationStore};

/// What to clean up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupOptions {
    /// Items created more than this many days ago go. `0` means 0 (every
    /// non-public item created before now), never a default.
    pub age_days: u32,
    /// Items per batch; each batch is one store transaction.
    pub batch_size: u32,
    /// Report what would be deleted, delete nothing.
    pub dry_run: bool,
    /// List each item in the report.
    pub verbose: bool,
}

impl Default for CleanupOptions {
    fn default() -> Self {
        Self {
            age_days: 14,
            batch_size: 500,
            dry_run: false,
            verbose: false,
        }
    }
}

/// One item the cleanup removed (or would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanedItem {
    /// The store id.
    pub id: ItemId,
    /// The moderated object.
    pub object: ObjectRef,
    /// Its status.
    pub status: ItemStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What a cleanup did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupReport {
    /// Items created strictly before this time were eligible.
    pub cutoff: DateTime<Utc>,
    /// True for a dry run: nothing was deleted.
    pub dry_run: bool,
    /// Eligible items found.
    pub matched: u64,
    /// Items deleted (0 on a dry run).
    pub deleted: u64,
    /// Each item, when `verbose` was set.
    pub items: Vec<CleanedItem>,
}

impl CleanupReport {
    /// One line for people: "deleted N" or "would delete N".
    #[must_use]
    pub fn summary(&self) -> String {
        if self.dry_run {
            format!(
                "would delete {} non-public items created before {}",
                self.matched, self.cutoff
            )
        } else {
            format!(
                "deleted {} non-public items created before {}",
                self.deleted, self.cutoff
            )
        }
    }
}

/// Deletes (or, on a dry run, counts) held, rejected and removed items
/// created more than `options.age_days` days before `now`, in batches of
/// `options.batch_size`, one store transaction per batch. Rows are never all
/// loaded at once.
///
/// # Errors
/// [`ModerationError::Config`] for a batch size of 0; the store's error
/// (batches already deleted stay deleted, and the report is lost: run again).
pub async fn cleanup(
    store: &dyn ModerationStore,
    now: DateTime<Utc>,
    options: CleanupOptions,
) -> Result<CleanupReport, ModerationError> {
    let span = tracing::info_span!(
        "cleanup",
        age_days = options.age_days,
        dry_run = options.dry_run
    );
    run(store, now, options).instrument(span).await
}

async fn run(
    store: &dyn ModerationStore,
    now: DateTime<Utc>,
    options: CleanupOptions,
) -> Result<CleanupReport, ModerationError> {
    if options.batch_size == 0 {
        return Err(ModerationError::Config(
            "cleanup batch_size must be at least 1".to_owned(),
        ));
    }
    let cutoff = now - Duration::days(i64::from(options.age_days));
    let mut report = CleanupReport {
        cutoff,
        dry_run: options.dry_run,
        matched: 0,
        deleted: 0,
        items: Vec::new(),
    };
    let mut after: Option<Cursor> = None;
    loop {
        // After a real delete the batch is gone, so the next one starts at the
        // beginning again; a dry run walks on with the cursor.
        let batch = store
            .non_public_before(cutoff, after, options.batch_size)
            .await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = Some(Cursor::after(last));
        report.matched += batch.len() as u64;
        if options.verbose {
            report.items.extend(batch.iter().map(|item| CleanedItem {
                id: item.id,
                object: item.object.clone(),
                status: item.status,
                created_at: item.created_at,
            }));
        }
        if options.dry_run {
            tracing::info!(count = batch.len(), "would delete");
        } else {
            let ids: Vec<ItemId> = batch.iter().map(|item| item.id).collect();
            let deleted = store.delete_items(&ids).await?;
            report.deleted += deleted;
            tracing::info!(count = deleted, "deleted");
            if deleted == 0 {
                // Someone else deleted them first; move on past this batch.
                continue;
            }
            after = None;
        }
    }
    Ok(report)
}

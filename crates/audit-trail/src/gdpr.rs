//! GDPR (SPEC E6): export everything the trail and the moderation log hold
//! about a user, and erase it.

use std::future::Future;

use chrono::{DateTime, Utc};
use moderation_core::{
    MAX_PAGE_SIZE, ModLogEntry, ModLogFilter, ModerationError, ModerationLog, Page, PageRequest,
    UserId,
};
use serde::{Deserialize, Serialize};

use crate::error::AuditError;
use crate::query::AuditQuery;
use crate::record::AuditRecord;
use crate::retention::IpHolder;
use crate::store::AuditStore;

/// Everything about one user, newest first, ready to hand over as JSON.
///
/// Records are read in keyset pages on `(at, id)`, so records sharing a
/// timestamp are all there (Misago's export keys by second and loses them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserExport {
    /// Whose data this is.
    pub user: UserId,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// Every audit record of the user's actions.
    pub audit_records: Vec<AuditRecord>,
    /// Every moderation log entry of the user's staff actions.
    pub moderation_log: Vec<ModLogEntry>,
}

impl UserExport {
    /// The export as pretty-printed JSON.
    ///
    /// # Errors
    /// [`AuditError::Invalid`] when a record's detail cannot be serialised
    /// (not possible for values read from a store).
    pub fn to_json(&self) -> Result<String, AuditError> {
        serde_json::to_string_pretty(self).map_err(|e| ModerationError::from(e).into())
    }
}

/// What erasing a user removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    /// Whose data was erased.
    pub user: UserId,
    /// Audit records deleted.
    pub audit_records_deleted: u64,
    /// Moderation log entries kept with the actor and IP removed.
    pub log_entries_anonymised: u64,
    /// IPs cleared in each [`IpHolder`], by name.
    pub cleared_ips: Vec<(String, u64)>,
}

/// Reads every record and log entry of `user`, page by page.
pub(crate) async fn export(
    store: &dyn AuditStore,
    log: &dyn ModerationLog,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<UserExport, AuditError> {
    let query = AuditQuery::by_actor(user.clone());
    let audit_records = all_pages(|page| store.records(&query, page)).await?;
    let filter = ModLogFilter {
        actor: Some(user.clone()),
        ..ModLogFilter::default()
    };
    let moderation_log = all_pages(|page| {
        let filter = &filter;
        async move { log.mod_log(filter, page).await.map_err(AuditError::from) }
    })
    .await?;
    Ok(UserExport {
        user: user.clone(),
        exported_at: now,
        audit_records,
        moderation_log,
    })
}

/// Every item of a keyset-paginated listing, following `next` to the end.
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, AuditError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, AuditError>>,
{
    let mut all = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let got = fetch(page).await?;
        all.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return Ok(all),
        }
    }
}

/// Deletes the user's audit records, anonymises their log entries and
/// clears their IPs in every holder. Each step is idempotent, so a failed
/// erasure is finished by running it again.
pub(crate) async fn erase(
    store: &dyn AuditStore,
    log: &dyn ModerationLog,
    holders: &[std::sync::Arc<dyn IpHolder>],
    user: &UserId,
) -> Result<ErasureReport, AuditError> {
    let audit_records_deleted = store.delete_actor(user).await?;
    let log_entries_anonymised = log.anonymise_actor(user).await?;
    let mut cleared_ips = Vec::with_capacity(holders.len());
    for holder in holders {
        cleared_ips.push((holder.name().to_owned(), holder.clear_user_ips(user).await?));
    }
    Ok(ErasureReport {
        user: user.clone(),
        audit_records_deleted,
        log_entries_anonymised,
        cleared_ips,
    })
}

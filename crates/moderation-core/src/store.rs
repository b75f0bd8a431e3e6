//! The `ModerationStore` port: moderated items, their state and their log.
//!
//! Stores keep one row per moderated item (a comment, say) with its status and
//! a version for optimistic concurrency, and an append-only log of everything
//! that happened to it. Every write that changes an item writes its log entry
//! in the same transaction. The in-memory implementation,
//! [`MemoryStore`](crate::MemoryStore), states the reference semantics;
//! `moderation-storage` provides SQLite and PostgreSQL.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::AuthorKey;
use crate::decision::{Reason, Verdict};
use crate::error::ModerationError;
use crate::ids::{ItemId, Kind, ObjectRef, UserId};

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Visible to everyone.
    Public,
    /// Waiting for a moderator.
    Held,
    /// Kept for the record, never public.
    Rejected,
    /// Soft-deleted by a moderator; restorable.
    Removed,
}

impl ItemStatus {
    /// The stable text stored in databases.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Held => "held",
            Self::Rejected => "rejected",
            Self::Removed => "removed",
        }
    }

    /// Parses [`ItemStatus::as_str`]'s form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "public" => Self::Public,
            "held" => Self::Held,
            "rejected" => Self::Rejected,
            "removed" => Self::Removed,
            _ => return None,
        })
    }

    /// The status a saved decision leaves the item in; `None` for
    /// [`Verdict::Discard`], which saves nothing.
    #[must_use]
    pub fn for_verdict(verdict: Verdict) -> Option<Self> {
        match verdict {
            Verdict::Publish => Some(Self::Public),
            Verdict::Hold => Some(Self::Held),
            Verdict::Reject => Some(Self::Rejected),
            Verdict::Discard => None,
        }
    }
}

/// An item to insert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewItem {
    /// The moderated object.
    pub object: ObjectRef,
    /// The object it is attached to (the blog entry of a comment).
    pub parent: Option<ObjectRef>,
    /// Who wrote it, when known.
    pub author: Option<AuthorKey>,
    /// Its status after the decision.
    pub status: ItemStatus,
    /// The decision's reasons.
    pub reasons: Vec<Reason>,
    /// The object's serde form.
    pub payload: serde_json::Value,
    /// A digest of the text, for duplicate detection.
    pub fingerprint: Option<String>,
    /// The client's IP address.
    pub ip: Option<IpAddr>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
}

/// An item as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredItem {
    /// The store's id.
    pub id: ItemId,
    /// The moderated object.
    pub object: ObjectRef,
    /// The object it is attached to.
    pub parent: Option<ObjectRef>,
    /// Who wrote it.
    pub author: Option<AuthorKey>,
    /// Where it stands.
    pub status: ItemStatus,
    /// Why it stands there (the latest decision's reasons).
    pub reasons: Vec<Reason>,
    /// The object's serde form.
    pub payload: serde_json::Value,
    /// A digest of the text.
    pub fingerprint: Option<String>,
    /// The client's IP address.
    pub ip: Option<IpAddr>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; a write naming an older version is a conflict.
    pub version: i64,
}

impl StoredItem {
    /// True when the public may see it.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.status == ItemStatus::Public
    }
}

/// What a log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LogAction {
    /// The pipeline published the submission.
    SubmitPublished,
    /// The pipeline held the submission for review.
    SubmitHeld,
    /// The pipeline rejected the submission.
    SubmitRejected,
    /// A user flagged the item.
    Flag,
    /// A moderator approved (published, un-removed) the item.
    Approve,
    /// A moderator rejected the item.
    Reject,
    /// A moderator soft-deleted the item.
    Remove,
}

impl LogAction {
    /// The stable text stored in databases.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubmitPublished => "submit.publish",
            Self::SubmitHeld => "submit.hold",
            Self::SubmitRejected => "submit.reject",
            Self::Flag => "flag",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Remove => "remove",
        }
    }

    /// Parses [`LogAction::as_str`]'s form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "submit.publish" => Self::SubmitPublished,
            "submit.hold" => Self::SubmitHeld,
            "submit.reject" => Self::SubmitRejected,
            "flag" => Self::Flag,
            "approve" => Self::Approve,
            "reject" => Self::Reject,
            "remove" => Self::Remove,
            _ => return None,
        })
    }

    /// The verb under which a store also writes this action to the
    /// moderation log: moderator actions are `item.approve`, `item.reject`
    /// and `item.remove`; submissions and flags are not staff actions and
    /// have none.
    ///
    /// ```
    /// use moderation_core::LogAction;
    /// assert_eq!(LogAction::Approve.moderation_log_verb(), Some("item.approve"));
    /// assert_eq!(LogAction::Flag.moderation_log_verb(), None);
    /// ```
    #[must_use]
    pub fn moderation_log_verb(self) -> Option<&'static str> {
        match self {
            Self::Approve => Some("item.approve"),
            Self::Reject => Some("item.reject"),
            Self::Remove => Some("item.remove"),
            Self::SubmitPublished | Self::SubmitHeld | Self::SubmitRejected | Self::Flag => None,
        }
    }

    /// The log action for a saved verdict; `None` for [`Verdict::Discard`].
    #[must_use]
    pub fn for_verdict(verdict: Verdict) -> Option<Self> {
        match verdict {
            Verdict::Publish => Some(Self::SubmitPublished),
            Verdict::Hold => Some(Self::SubmitHeld),
            Verdict::Reject => Some(Self::SubmitRejected),
            Verdict::Discard => None,
        }
    }
}

/// A log entry to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLogEntry {
    /// What happened.
    pub action: LogAction,
    /// Who did it (`None` for the pipeline or an anonymous author).
    pub actor: Option<UserId>,
    /// Why, in words.
    pub reason: Option<String>,
    /// Structured detail (the decision's reasons, a flag's text).
    pub detail: serde_json::Value,
    /// The actor's IP address, so the log doubles as the audit record of
    /// moderator actions (written in the same transaction).
    pub ip: Option<IpAddr>,
    /// The item's status before (`None` for an insert).
    pub from_status: Option<ItemStatus>,
    /// The item's status after (`None` when the status did not change, as for a flag).
    pub to_status: Option<ItemStatus>,
    /// Groups the entries of one bulk action under one id.
    pub bulk: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A log entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The entry's id, increasing in insertion order.
    pub id: i64,
    /// The item it is about.
    pub item: ItemId,
    /// What happened.
    pub action: LogAction,
    /// Who did it.
    pub actor: Option<UserId>,
    /// Why.
    pub reason: Option<String>,
    /// Structured detail.
    pub detail: serde_json::Value,
    /// The actor's IP address.
    pub ip: Option<IpAddr>,
    /// The item's status before.
    pub from_status: Option<ItemStatus>,
    /// The item's status after.
    pub to_status: Option<ItemStatus>,
    /// The bulk action this entry belongs to.
    pub bulk: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A change of status, checked against the version the caller saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The item.
    pub item: ItemId,
    /// The version the caller read; any other version in the store is a
    /// [`ModerationError::Conflict`].
    pub expected_version: i64,
    /// The new status.
    pub status: ItemStatus,
    /// The log entry written with it.
    pub log: NewLogEntry,
}

/// Whether a flag was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagOutcome {
    /// The flag was recorded, with its log entry.
    Added,
    /// This user had flagged the item already; nothing was written.
    AlreadyFlagged,
}

/// What to look for when checking for a duplicate submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateQuery {
    /// The kind of the new submission.
    pub kind: Kind,
    /// Its parent.
    pub parent: Option<ObjectRef>,
    /// Its author.
    pub author: AuthorKey,
    /// Its text digest.
    pub fingerprint: String,
    /// Only items created at or after this time count.
    pub since: DateTime<Utc>,
}

/// A keyset position: items strictly after `(created_at, id)` in the page order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    /// The last seen item's creation time.
    pub created_at: DateTime<Utc>,
    /// The last seen item's id.
    pub id: ItemId,
}

impl Cursor {
    /// The cursor just after `item`.
    #[must_use]
    pub fn after(item: &StoredItem) -> Self {
        Self {
            created_at: item.created_at,
            id: item.id,
        }
    }
}

/// Page order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Oldest first (the review queue's default).
    #[default]
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// Which items to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemFilter {
    /// Only this status.
    pub status: Option<ItemStatus>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this author.
    pub author: Option<AuthorKey>,
    /// Only the items under this parent: the comments of one post. The
    /// stores answer it through an index on the parent, so a post's page
    /// costs the same whatever the table holds.
    #[serde(default)]
    pub parent: Option<ObjectRef>,
    /// Leave out the items of these authors unless the viewer wrote them
    /// (hell-banned authors, SPEC F8). Empty by default: nothing is hidden.
    #[serde(default)]
    pub hidden: HiddenAuthors,
}

impl ItemFilter {
    /// The public items under `parent`, as `viewer` may see them: the
    /// comment list of a post, with the items of `hidden` authors (hell
    /// bans) left out unless the viewer wrote them.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use moderation_core::{
    ///     AuthorKey, HiddenAuthors, ItemFilter, Kind, MemoryStore, ModerationStore, ObjectRef,
    ///     Order, PageRequest, UserId,
    /// };
    /// let store = MemoryStore::new();
    /// let post = ObjectRef::new(Kind::new("blog.post")?, 7_i64);
    /// let banned = AuthorKey::User(UserId::from(13_i64));
    /// let filter = ItemFilter::public_under(post, HiddenAuthors::new(vec![banned], None));
    /// let newest = PageRequest { order: Order::NewestFirst, ..PageRequest::first(20) };
    /// let page = store.list_items(&filter, &newest).await?;
    /// assert!(page.items.is_empty());
    /// # Ok::<(), moderation_core::ModerationError>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn public_under(parent: ObjectRef, hidden: HiddenAuthors) -> Self {
        Self {
            status: Some(ItemStatus::Public),
            parent: Some(parent),
            hidden,
            ..Self::default()
        }
    }
}

/// Authors whose items a listing leaves out, as the viewer asking for it
/// should see it: a hell-banned author sees their own items, nobody else
/// does (staff ask with an empty set and mark the items themselves).
///
/// Stores apply it in the page query, so pages keep their size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenAuthors {
    /// Items by these authors are left out...
    pub authors: Vec<AuthorKey>,
    /// ...except those by the viewer, when the viewer is one of them.
    pub viewer: Option<AuthorKey>,
}

impl HiddenAuthors {
    /// Hides `authors` from `viewer` (`None` for an anonymous visitor).
    #[must_use]
    pub fn new(authors: Vec<AuthorKey>, viewer: Option<AuthorKey>) -> Self {
        Self { authors, viewer }
    }

    /// The authors actually left out: every listed one but the viewer.
    pub fn effective(&self) -> impl Iterator<Item = &AuthorKey> {
        self.authors
            .iter()
            .filter(move |author| self.viewer.as_ref() != Some(*author))
    }

    /// Whether an item by `author` stays in the listing. Anonymous items
    /// (no author) are never hidden.
    #[must_use]
    pub fn shows(&self, author: Option<&AuthorKey>) -> bool {
        author.is_none_or(|author| !self.effective().any(|hidden| hidden == author))
    }
}

/// The most items one page may hold.
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// One page request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Start strictly after this position; `None` for the first page.
    pub after: Option<Cursor>,
    /// Page size, 1 to [`MAX_PAGE_SIZE`] (larger values are clamped).
    pub limit: u32,
    /// Order.
    pub order: Order,
}

impl PageRequest {
    /// The first page of `limit` items, oldest first.
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            limit,
            order: Order::OldestFirst,
        }
    }

    /// The limit clamped to `1..=MAX_PAGE_SIZE`.
    #[must_use]
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

/// One page of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the requested order.
    pub items: Vec<T>,
    /// The cursor for the next page, `None` on the last one.
    pub next: Option<Cursor>,
}

/// Persistence for moderated items and their log.
///
/// Contract, which the conformance suite in `moderation-storage` checks for
/// every implementation:
/// - every method that changes an item writes its log entry in the same
///   transaction: either both are stored or neither;
/// - a [`StatusChange`] whose `expected_version` is not the stored version
///   fails with [`ModerationError::Conflict`] and writes nothing; a successful
///   one bumps the version by one;
/// - batch methods run in one transaction per call;
/// - listing is keyset-paginated on `(created_at, id)` and its cost does not
///   grow with the number of items outside the filter.
#[async_trait]
pub trait ModerationStore: Send + Sync + std::fmt::Debug + 'static {
    /// Inserts an item and its first log entry atomically.
    async fn insert_item(
        &self,
        item: NewItem,
        log: NewLogEntry,
    ) -> Result<StoredItem, ModerationError>;

    /// Inserts many items, each with its log entry, in one transaction.
    /// Returns them in input order.
    async fn insert_items(
        &self,
        items: Vec<(NewItem, NewLogEntry)>,
    ) -> Result<Vec<StoredItem>, ModerationError>;

    /// Reads one item.
    async fn item(&self, id: ItemId) -> Result<Option<StoredItem>, ModerationError>;

    /// Reads the newest item for a moderated object.
    async fn item_for_object(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<StoredItem>, ModerationError>;

    /// The newest item matching a duplicate query, if any (any status).
    async fn find_duplicate(
        &self,
        query: &DuplicateQuery,
    ) -> Result<Option<StoredItem>, ModerationError>;

    /// True when `author` has at least one public item of `kind`.
    async fn author_has_public(
        &self,
        kind: &Kind,
        author: &AuthorKey,
    ) -> Result<bool, ModerationError>;

    /// Applies a status change and its log entry atomically, checking the version.
    async fn change_status(&self, change: StatusChange) -> Result<StoredItem, ModerationError>;

    /// Applies many status changes in one transaction; if any conflicts or is
    /// missing, none is applied.
    async fn change_statuses(
        &self,
        changes: Vec<StatusChange>,
    ) -> Result<Vec<StoredItem>, ModerationError>;

    /// Records a flag by `flagger` on `item` with its log entry, once per user and item.
    async fn add_flag(
        &self,
        item: ItemId,
        flagger: &UserId,
        log: NewLogEntry,
    ) -> Result<FlagOutcome, ModerationError>;

    /// Lists items matching `filter`, one keyset page.
    async fn list_items(
        &self,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredItem>, ModerationError>;

    /// The log of one item, oldest first.
    async fn log_entries(&self, item: ItemId) -> Result<Vec<LogEntry>, ModerationError>;

    /// Non-public items (held, rejected, removed) created strictly before
    /// `before`, oldest first, after `after`, at most `limit`.
    async fn non_public_before(
        &self,
        before: DateTime<Utc>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredItem>, ModerationError>;

    /// Physically deletes items with their flags and log entries, in one
    /// transaction. Returns how many items were deleted. Used only by the
    /// cleanup job; moderation itself never deletes.
    async fn delete_items(&self, ids: &[ItemId]) -> Result<u64, ModerationError>;
}

//! Read-only store facts handed to moderator hooks and rules.

use crate::actor::AuthorKey;
use crate::error::ModerationError;
use crate::ids::{ItemId, Kind, ObjectRef};
use crate::store::{ItemFilter, LogEntry, ModerationStore, Page, PageRequest, StoredItem};

/// Read-only queries on the store, so hooks can look at history (counts,
/// earlier items) without being able to change anything.
#[derive(Debug, Clone, Copy)]
pub struct StoreFacts<'a> {
    store: &'a dyn ModerationStore,
}

impl<'a> StoreFacts<'a> {
    /// Read-only facts over `store`.
    #[must_use]
    pub fn new(store: &'a dyn ModerationStore) -> Self {
        Self { store }
    }

    /// True when `author` has at least one public item of `kind`.
    ///
    /// # Errors
    /// The store's error.
    pub async fn author_has_public(
        &self,
        kind: &Kind,
        author: &AuthorKey,
    ) -> Result<bool, ModerationError> {
        self.store.author_has_public(kind, author).await
    }

    /// One item.
    ///
    /// # Errors
    /// The store's error.
    pub async fn item(&self, id: ItemId) -> Result<Option<StoredItem>, ModerationError> {
        self.store.item(id).await
    }

    /// The newest item for an object.
    ///
    /// # Errors
    /// The store's error.
    pub async fn item_for_object(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<StoredItem>, ModerationError> {
        self.store.item_for_object(object).await
    }

    /// One page of items.
    ///
    /// # Errors
    /// The store's error.
    pub async fn list_items(
        &self,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredItem>, ModerationError> {
        self.store.list_items(filter, page).await
    }

    /// An item's log, oldest first.
    ///
    /// # Errors
    /// The store's error.
    pub async fn log_entries(&self, item: ItemId) -> Result<Vec<LogEntry>, ModerationError> {
        self.store.log_entries(item).await
    }
}

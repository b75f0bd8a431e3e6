//! Scenarios for the `ModerationStore` port. Each takes a fresh, empty store.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_core::{
    AuthorKey, Cursor, DuplicateQuery, FlagOutcome, HiddenAuthors, ItemFilter, ItemId, ItemStatus,
    Kind, LogAction, ModerationError, ModerationStore, NewItem, NewLogEntry, ObjectId, ObjectRef,
    Order, PageRequest, Reason, StatusChange, StoredItem, UserId,
};

use super::ScenarioResult;

/// A fixed instant with a non-zero microsecond part, so a store that drops
/// precision fails the round-trip checks.
#[must_use]
pub fn base_time() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_000_000, 123_456_000)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The kind every scenario uses unless it needs two.
///
/// # Errors
/// Never in practice: the name is valid.
pub fn comment_kind() -> Result<Kind, ModerationError> {
    Kind::new("blog.comment")
}

/// A held comment `id` by user `author`, created `offset_secs` after
/// [`base_time`], with its log entry.
///
/// # Errors
/// Never in practice: the names are valid.
pub fn held_comment(
    id: i64,
    author: i64,
    offset_secs: i64,
) -> Result<(NewItem, NewLogEntry), ModerationError> {
    let at = base_time() + Duration::seconds(offset_secs);
    let item = NewItem {
        object: ObjectRef::new(comment_kind()?, id),
        parent: Some(ObjectRef::new(Kind::new("blog.entry")?, 1_i64)),
        author: Some(AuthorKey::User(UserId::from(author))),
        status: ItemStatus::Held,
        reasons: vec![
            Reason::new("first_timer", "First comment by this author")
                .with_detail(serde_json::json!({"author": author})),
        ],
        payload: serde_json::json!({"text": format!("comment {id}"), "n": id}),
        fingerprint: Some(format!("digest-{id}")),
        ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))),
        created_at: at,
    };
    Ok((item, submit_log(ItemStatus::Held, at)))
}

/// The pipeline's log entry for a new item in `status`.
#[must_use]
pub fn submit_log(status: ItemStatus, at: DateTime<Utc>) -> NewLogEntry {
    let action = match status {
        ItemStatus::Public => LogAction::SubmitPublished,
        ItemStatus::Rejected => LogAction::SubmitRejected,
        ItemStatus::Held | ItemStatus::Removed => LogAction::SubmitHeld,
    };
    NewLogEntry {
        action,
        actor: None,
        reason: None,
        detail: serde_json::json!({"reasons": ["first_timer"]}),
        ip: None,
        from_status: None,
        to_status: Some(status),
        bulk: None,
        at,
    }
}

/// A moderator's status change of `item` (read at `version`) to `status`.
///
/// # Errors
/// Never in practice: the moderator id is valid.
pub fn moderator_change(
    item: ItemId,
    version: i64,
    from: ItemStatus,
    status: ItemStatus,
) -> Result<StatusChange, ModerationError> {
    let action = match status {
        ItemStatus::Public => LogAction::Approve,
        ItemStatus::Rejected => LogAction::Reject,
        ItemStatus::Held | ItemStatus::Removed => LogAction::Remove,
    };
    Ok(StatusChange {
        item,
        expected_version: version,
        status,
        log: NewLogEntry {
            action,
            actor: Some(UserId::new("moderator-1")?),
            reason: Some("looks fine".to_owned()),
            detail: serde_json::json!({"via": "queue"}),
            ip: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            from_status: Some(from),
            to_status: Some(status),
            bulk: None,
            at: base_time() + Duration::seconds(3_600),
        },
    })
}

/// An insert returns the item as stored, and reading it back gives the
/// same value, microseconds included, with exactly one log entry.
pub async fn insert_then_read(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let (item, log) = held_comment(1, 10, 0)?;
    let stored = store.insert_item(item.clone(), log.clone()).await?;
    assert_eq!(stored.version, 1);
    assert_eq!(stored.created_at, item.created_at);
    assert_eq!(stored.updated_at, item.created_at);
    assert_eq!(stored.payload, item.payload);
    assert_eq!(stored.reasons, item.reasons);
    assert_eq!(store.item(stored.id).await?, Some(stored.clone()));
    let entries = store.log_entries(stored.id).await?;
    assert_eq!(entries.len(), 1);
    let entry = entries.first().cloned();
    assert_eq!(entry.as_ref().map(|e| e.item), Some(stored.id));
    assert_eq!(entry.as_ref().map(|e| e.at), Some(log.at));
    assert_eq!(entry.as_ref().map(|e| e.detail.clone()), Some(log.detail));
    assert_eq!(entry.and_then(|e| e.to_status), Some(ItemStatus::Held));
    assert_eq!(store.item(ItemId(stored.id.0 + 1_000)).await?, None);
    Ok(())
}

/// Integer, UUID and string object ids round-trip and are looked up by
/// object, newest item first.
pub async fn object_ids_of_every_shape(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let kind = Kind::new("wiki.page")?;
    let ids = [
        ObjectId::from(42_i64),
        ObjectId::from(uuid::Uuid::from_u128(
            0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8,
        )),
        ObjectId::string("42")?,
        ObjectId::string("ünïcode slug/with:colons")?,
    ];
    for (offset, id) in (0_i64..).zip(ids.iter()) {
        let (mut item, log) = held_comment(offset, 10, offset)?;
        item.object = ObjectRef::new(kind.clone(), id.clone());
        store.insert_item(item, log).await?;
    }
    for id in &ids {
        let object = ObjectRef::new(kind.clone(), id.clone());
        let found = store.item_for_object(&object).await?;
        assert_eq!(found.map(|item| item.object), Some(object));
    }
    // A newer item for the same object wins.
    let object = ObjectRef::new(kind.clone(), ids[0].clone());
    let (mut item, log) = held_comment(99, 11, 100)?;
    item.object = object.clone();
    let newer = store.insert_item(item, log).await?;
    assert_eq!(
        store.item_for_object(&object).await?.map(|i| i.id),
        Some(newer.id)
    );
    let unknown = ObjectRef::new(kind, ObjectId::from(7_i64));
    assert_eq!(store.item_for_object(&unknown).await?, None);
    Ok(())
}

/// A batch insert returns items in input order, each with its log entry.
pub async fn batch_insert_keeps_order(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    // Creation times deliberately not in id order.
    let batch = (0..25)
        .map(|n| held_comment(n, 10 + n % 3, (n * 7) % 11))
        .collect::<Result<Vec<_>, _>>()?;
    let stored = store.insert_items(batch.clone()).await?;
    assert_eq!(stored.len(), batch.len());
    for ((item, _), stored) in batch.iter().zip(&stored) {
        assert_eq!(stored.object, item.object);
        assert_eq!(store.item(stored.id).await?.as_ref(), Some(stored));
        assert_eq!(store.log_entries(stored.id).await?.len(), 1);
    }
    assert!(store.insert_items(Vec::new()).await?.is_empty());
    Ok(())
}

/// Duplicates match the same author, kind, parent and text within the window.
pub async fn find_duplicate_matches_author_parent_and_window(
    store: Arc<dyn ModerationStore>,
) -> ScenarioResult {
    let (item, log) = held_comment(1, 10, 60)?;
    let first = store.insert_item(item.clone(), log).await?;
    let query = DuplicateQuery {
        kind: comment_kind()?,
        parent: item.parent.clone(),
        author: AuthorKey::User(UserId::from(10_i64)),
        fingerprint: "digest-1".to_owned(),
        since: base_time(),
    };
    assert_eq!(
        store.find_duplicate(&query).await?.map(|i| i.id),
        Some(first.id)
    );
    let later = DuplicateQuery {
        since: base_time() + Duration::seconds(61),
        ..query.clone()
    };
    assert_eq!(store.find_duplicate(&later).await?, None);
    let other_author = DuplicateQuery {
        author: AuthorKey::User(UserId::from(11_i64)),
        ..query.clone()
    };
    assert_eq!(store.find_duplicate(&other_author).await?, None);
    let no_parent = DuplicateQuery {
        parent: None,
        ..query.clone()
    };
    assert_eq!(store.find_duplicate(&no_parent).await?, None);
    let other_text = DuplicateQuery {
        fingerprint: "digest-2".to_owned(),
        ..query
    };
    assert_eq!(store.find_duplicate(&other_text).await?, None);
    Ok(())
}

/// Only a public item of the same kind by the same author counts.
pub async fn author_has_public_counts_only_public(
    store: Arc<dyn ModerationStore>,
) -> ScenarioResult {
    let author = AuthorKey::User(UserId::from(10_i64));
    let kind = comment_kind()?;
    let (item, log) = held_comment(1, 10, 0)?;
    let held = store.insert_item(item, log).await?;
    assert!(!store.author_has_public(&kind, &author).await?);
    let (mut other, log) = held_comment(2, 10, 1)?;
    other.object = ObjectRef::new(Kind::new("forum.post")?, 2_i64);
    other.status = ItemStatus::Public;
    store.insert_item(other, log).await?;
    assert!(!store.author_has_public(&kind, &author).await?);
    let change = moderator_change(held.id, 1, ItemStatus::Held, ItemStatus::Public)?;
    store.change_status(change).await?;
    assert!(store.author_has_public(&kind, &author).await?);
    let stranger = AuthorKey::Identity("someone@example.org".to_owned());
    assert!(!store.author_has_public(&kind, &stranger).await?);
    Ok(())
}

/// A status change bumps the version, sets `updated_at`, keeps the reasons
/// and appends its log entry.
pub async fn change_status_bumps_version_and_logs(
    store: Arc<dyn ModerationStore>,
) -> ScenarioResult {
    let (item, log) = held_comment(1, 10, 0)?;
    let stored = store.insert_item(item, log).await?;
    let change = moderator_change(stored.id, 1, ItemStatus::Held, ItemStatus::Public)?;
    let at = change.log.at;
    let changed = store.change_status(change).await?;
    assert_eq!(changed.version, 2);
    assert_eq!(changed.status, ItemStatus::Public);
    assert_eq!(changed.updated_at, at);
    assert_eq!(changed.reasons, stored.reasons);
    assert_eq!(store.item(stored.id).await?, Some(changed));
    let entries = store.log_entries(stored.id).await?;
    let actions: Vec<LogAction> = entries.iter().map(|e| e.action).collect();
    assert_eq!(actions, [LogAction::SubmitHeld, LogAction::Approve]);
    let approve = entries.last().cloned();
    assert_eq!(
        approve.as_ref().and_then(|e| e.actor.clone()),
        Some(UserId::new("moderator-1")?)
    );
    assert_eq!(
        approve.as_ref().and_then(|e| e.ip),
        Some(IpAddr::V6(Ipv6Addr::LOCALHOST))
    );
    assert_eq!(approve.and_then(|e| e.from_status), Some(ItemStatus::Held));
    Ok(())
}

/// A stale version is a `Conflict` naming both versions; nothing changes.
pub async fn stale_version_conflicts(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let (item, log) = held_comment(1, 10, 0)?;
    let stored = store.insert_item(item, log).await?;
    store
        .change_status(moderator_change(
            stored.id,
            1,
            ItemStatus::Held,
            ItemStatus::Public,
        )?)
        .await?;
    let stale = moderator_change(stored.id, 1, ItemStatus::Held, ItemStatus::Rejected)?;
    match store.change_status(stale).await {
        Err(ModerationError::Conflict {
            item,
            expected,
            actual,
        }) => {
            assert_eq!((item, expected, actual), (stored.id, 1, 2));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let now = store.item(stored.id).await?;
    assert_eq!(
        now.as_ref().map(|i| (i.status, i.version)),
        Some((ItemStatus::Public, 2))
    );
    assert_eq!(store.log_entries(stored.id).await?.len(), 2);
    Ok(())
}

/// Changing an item that does not exist is `NotFound`.
pub async fn change_missing_item_is_not_found(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let change = moderator_change(ItemId(404), 1, ItemStatus::Held, ItemStatus::Public)?;
    match store.change_status(change).await {
        Err(ModerationError::NotFound { item }) => assert_eq!(item, ItemId(404)),
        other => panic!("expected not found, got {other:?}"),
    }
    Ok(())
}

/// A batch of changes applies all or nothing; one item may appear twice
/// when the second change names the version the first leaves.
pub async fn change_statuses_all_or_nothing(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let batch = (0..3)
        .map(|n| held_comment(n, 10, n))
        .collect::<Result<Vec<_>, _>>()?;
    let items = store.insert_items(batch).await?;
    let ids: Vec<ItemId> = items.iter().map(|i| i.id).collect();
    // The last change is stale: nothing of the batch may stay.
    let mut changes = ids
        .iter()
        .map(|id| moderator_change(*id, 1, ItemStatus::Held, ItemStatus::Public))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(last) = changes.last_mut() {
        last.expected_version = 7;
    }
    assert!(matches!(
        store.change_statuses(changes).await,
        Err(ModerationError::Conflict { .. })
    ));
    for id in &ids {
        let item = store.item(*id).await?;
        assert_eq!(
            item.map(|i| (i.status, i.version)),
            Some((ItemStatus::Held, 1))
        );
        assert_eq!(store.log_entries(*id).await?.len(), 1);
    }
    let mut changes = ids
        .iter()
        .map(|id| moderator_change(*id, 1, ItemStatus::Held, ItemStatus::Public))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(first) = ids.first() {
        changes.push(moderator_change(
            *first,
            2,
            ItemStatus::Public,
            ItemStatus::Removed,
        )?);
    }
    let changed = store.change_statuses(changes).await?;
    let states: Vec<(ItemStatus, i64)> = changed.iter().map(|i| (i.status, i.version)).collect();
    assert_eq!(
        states,
        [
            (ItemStatus::Public, 2),
            (ItemStatus::Public, 2),
            (ItemStatus::Public, 2),
            (ItemStatus::Removed, 3)
        ]
    );
    // Each change wrote its own log entry, once.
    let mut logged = Vec::new();
    for id in &ids {
        logged.push(store.log_entries(*id).await?.len());
    }
    assert_eq!(logged, [3, 2, 2]);
    Ok(())
}

/// A batch larger than one statement's share (1 000 changes) still applies
/// all or nothing: a stale change in its last part leaves the first part
/// undone too, and a good batch returns every item in input order.
pub async fn change_statuses_larger_than_one_statement(
    store: Arc<dyn ModerationStore>,
) -> ScenarioResult {
    let batch = (0..1_001)
        .map(|n| held_comment(n, n % 50, n))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<ItemId> = store
        .insert_items(batch)
        .await?
        .iter()
        .map(|i| i.id)
        .collect();
    let approvals = || {
        ids.iter()
            .map(|id| moderator_change(*id, 1, ItemStatus::Held, ItemStatus::Public))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut changes = approvals()?;
    if let Some(last) = changes.last_mut() {
        last.expected_version = 7;
    }
    assert!(matches!(
        store.change_statuses(changes).await,
        Err(ModerationError::Conflict { .. })
    ));
    for id in [ids.first(), ids.get(500), ids.last()]
        .into_iter()
        .flatten()
    {
        let item = store.item(*id).await?;
        assert_eq!(
            item.map(|i| (i.status, i.version)),
            Some((ItemStatus::Held, 1))
        );
        assert_eq!(store.log_entries(*id).await?.len(), 1);
    }
    let changed = store.change_statuses(approvals()?).await?;
    let returned: Vec<ItemId> = changed.iter().map(|i| i.id).collect();
    assert_eq!(returned, ids);
    assert!(
        changed
            .iter()
            .all(|i| i.status == ItemStatus::Public && i.version == 2)
    );
    Ok(())
}

/// A user flags an item once; the flag is logged and leaves the version.
pub async fn flag_once_per_user(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let (item, log) = held_comment(1, 10, 0)?;
    let stored = store.insert_item(item, log).await?;
    let flagger = UserId::from(20_i64);
    let flag = NewLogEntry {
        action: LogAction::Flag,
        actor: Some(flagger.clone()),
        reason: Some("spam".to_owned()),
        detail: serde_json::json!({"text": "buy pills"}),
        ip: None,
        from_status: None,
        to_status: None,
        bulk: None,
        at: base_time() + Duration::seconds(5),
    };
    assert_eq!(
        store.add_flag(stored.id, &flagger, flag.clone()).await?,
        FlagOutcome::Added
    );
    assert_eq!(
        store.add_flag(stored.id, &flagger, flag.clone()).await?,
        FlagOutcome::AlreadyFlagged
    );
    let other = UserId::from(21_i64);
    assert_eq!(
        store.add_flag(stored.id, &other, flag.clone()).await?,
        FlagOutcome::Added
    );
    assert_eq!(store.item(stored.id).await?.map(|i| i.version), Some(1));
    let flags = store
        .log_entries(stored.id)
        .await?
        .into_iter()
        .filter(|e| e.action == LogAction::Flag)
        .count();
    assert_eq!(flags, 2);
    match store.add_flag(ItemId(404), &flagger, flag).await {
        Err(ModerationError::NotFound { item }) => assert_eq!(item, ItemId(404)),
        other => panic!("expected not found, got {other:?}"),
    }
    Ok(())
}

/// Collects every page of a listing.
async fn all_pages(
    store: &dyn ModerationStore,
    filter: &ItemFilter,
    limit: u32,
    order: Order,
) -> Result<Vec<StoredItem>, ModerationError> {
    let mut page = PageRequest {
        after: None,
        limit,
        order,
    };
    let mut items = Vec::new();
    loop {
        let result = store.list_items(filter, &page).await?;
        assert!(result.items.len() <= limit as usize);
        items.extend(result.items);
        match result.next {
            Some(next) => page.after = Some(next),
            None => return Ok(items),
        }
    }
}

/// Keyset pages cover every matching item once, in order, with filters on
/// status, kind, author and parent (the comments of one post, a hell-banned
/// author left out for everyone but that author), oldest or newest first.
pub async fn list_items_pages_and_filters(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let mut batch = Vec::new();
    for n in 0..30 {
        // Several items share a creation time, so ids break the ties.
        let (mut item, log) = held_comment(n, 10 + n % 2, n / 3)?;
        if n % 5 == 0 {
            item.status = ItemStatus::Public;
        }
        if n % 7 == 0 {
            item.object = ObjectRef::new(Kind::new("forum.post")?, n);
        }
        if n % 3 == 0 {
            item.parent = Some(ObjectRef::new(Kind::new("blog.entry")?, 2_i64));
        }
        batch.push((item, log));
    }
    let stored = store.insert_items(batch).await?;
    let mut expected = stored.clone();
    expected.sort_by_key(|i| (i.created_at, i.id));
    let everything = all_pages(&*store, &ItemFilter::default(), 4, Order::OldestFirst).await?;
    assert_eq!(everything, expected);
    let newest = all_pages(&*store, &ItemFilter::default(), 7, Order::NewestFirst).await?;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(newest, reversed);
    let filter = ItemFilter {
        status: Some(ItemStatus::Held),
        kind: Some(comment_kind()?),
        author: Some(AuthorKey::User(UserId::from(11_i64))),
        parent: None,
        hidden: HiddenAuthors::default(),
    };
    let queue = all_pages(&*store, &filter, 3, Order::OldestFirst).await?;
    let wanted: Vec<StoredItem> = expected
        .iter()
        .filter(|i| {
            i.status == ItemStatus::Held
                && Some(&i.object.kind) == filter.kind.as_ref()
                && i.author == filter.author
        })
        .cloned()
        .collect();
    assert!(!wanted.is_empty());
    assert_eq!(queue, wanted);
    // Public items are listed through another statement shape than the
    // other statuses (a bound status, no partial queue index).
    let public = ItemFilter {
        status: Some(ItemStatus::Public),
        kind: Some(comment_kind()?),
        ..ItemFilter::default()
    };
    let listed = all_pages(&*store, &public, 2, Order::NewestFirst).await?;
    let wanted: Vec<StoredItem> = reversed
        .iter()
        .filter(|i| i.status == ItemStatus::Public && Some(&i.object.kind) == public.kind.as_ref())
        .cloned()
        .collect();
    assert!(wanted.len() > 2);
    assert_eq!(listed, wanted);
    // The comments of one post, newest first, with a hell-banned author
    // left out for everyone but that author.
    let post = ObjectRef::new(Kind::new("blog.entry")?, 2_i64);
    let banned = AuthorKey::User(UserId::from(10_i64));
    let comments = comment_kind()?;
    for viewer in [None, Some(banned.clone())] {
        let of_post = ItemFilter {
            kind: Some(comments.clone()),
            parent: Some(post.clone()),
            hidden: HiddenAuthors::new(vec![banned.clone()], viewer.clone()),
            ..ItemFilter::default()
        };
        let listed = all_pages(&*store, &of_post, 2, Order::NewestFirst).await?;
        let wanted: Vec<StoredItem> = reversed
            .iter()
            .filter(|i| i.parent.as_ref() == Some(&post) && i.object.kind == comments)
            .filter(|i| viewer.is_some() || i.author.as_ref() != Some(&banned))
            .cloned()
            .collect();
        assert!(wanted.len() > 2, "{wanted:?}");
        assert_eq!(listed, wanted, "viewer {viewer:?}");
    }
    let empty = store
        .list_items(
            &ItemFilter {
                status: Some(ItemStatus::Removed),
                ..ItemFilter::default()
            },
            &PageRequest::first(10),
        )
        .await?;
    assert!(empty.items.is_empty() && empty.next.is_none());
    Ok(())
}

/// The cleanup listing returns non-public items created before the cut-off,
/// oldest first, page by page.
pub async fn non_public_before_pages(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let mut batch = Vec::new();
    for n in 0..12 {
        let (mut item, log) = held_comment(n, 10, n)?;
        if n % 3 == 0 {
            item.status = ItemStatus::Public;
        }
        batch.push((item, log));
    }
    store.insert_items(batch).await?;
    let cut_off = base_time() + Duration::seconds(9);
    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store.non_public_before(cut_off, after, 2).await?;
        let Some(last) = page.last() else { break };
        after = Some(Cursor::after(last));
        seen.extend(page);
    }
    let ids: Vec<i64> = seen
        .iter()
        .filter_map(|i| i.payload.get("n").and_then(serde_json::Value::as_i64))
        .collect();
    assert_eq!(ids, [1, 2, 4, 5, 7, 8]);
    assert!(
        seen.iter()
            .all(|i| !i.is_public() && i.created_at < cut_off)
    );
    Ok(())
}

/// Deleting items removes them with their log; unknown ids are not counted.
pub async fn delete_items_removes_log(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let batch = (0..4)
        .map(|n| held_comment(n, 10, n))
        .collect::<Result<Vec<_>, _>>()?;
    let items = store.insert_items(batch).await?;
    let flagger = UserId::from(5_i64);
    let first = items.first().map(|i| i.id).unwrap_or(ItemId(0));
    let mut flag = submit_log(ItemStatus::Held, base_time());
    flag.action = LogAction::Flag;
    flag.to_status = None;
    store.add_flag(first, &flagger, flag).await?;
    let doomed: Vec<ItemId> = items
        .iter()
        .take(2)
        .map(|i| i.id)
        .chain([ItemId(999)])
        .collect();
    assert_eq!(store.delete_items(&doomed).await?, 2);
    assert_eq!(store.delete_items(&[]).await?, 0);
    for id in doomed {
        assert_eq!(store.item(id).await?, None);
        assert!(store.log_entries(id).await?.is_empty());
    }
    for item in items.iter().skip(2) {
        assert!(store.item(item.id).await?.is_some());
    }
    Ok(())
}

/// Hidden authors (hell-banned, SPEC F8) are left out of listings inside
/// the page query: every page but the last stays full, the hidden author
/// still sees their own items, anonymous items always show, and an empty
/// set (what staff ask with) hides nothing.
pub async fn hidden_authors_left_out_of_full_pages(
    store: Arc<dyn ModerationStore>,
) -> ScenarioResult {
    let banned = AuthorKey::User(UserId::from(66_i64));
    let reader = AuthorKey::User(UserId::from(10_i64));
    let mut batch = Vec::new();
    for n in 0..24 {
        let (mut item, log) = held_comment(n, 10, n)?;
        item.author = match n % 4 {
            0 => Some(banned.clone()),
            1 => None,
            2 => Some(AuthorKey::Identity("guest@example.org".to_owned())),
            _ => Some(reader.clone()),
        };
        batch.push((item, log));
    }
    let stored = store.insert_items(batch).await?;
    let hidden_from = |viewer: Option<AuthorKey>| ItemFilter {
        hidden: HiddenAuthors::new(vec![banned.clone()], viewer),
        ..ItemFilter::default()
    };
    let without_banned: Vec<StoredItem> = stored
        .iter()
        .filter(|i| i.author.as_ref() != Some(&banned))
        .cloned()
        .collect();
    for viewer in [None, Some(reader.clone())] {
        let filter = hidden_from(viewer);
        let mut page = PageRequest::first(5);
        let mut seen = Vec::new();
        loop {
            let result = store.list_items(&filter, &page).await?;
            if result.next.is_some() {
                assert_eq!(result.items.len(), 5, "a page short of hidden items");
            }
            seen.extend(result.items);
            match result.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, without_banned);
    }
    let own = all_pages(
        &*store,
        &hidden_from(Some(banned.clone())),
        5,
        Order::NewestFirst,
    )
    .await?;
    let mut everything = stored.clone();
    everything.reverse();
    assert_eq!(own, everything);
    let staff = all_pages(&*store, &ItemFilter::default(), 5, Order::OldestFirst).await?;
    assert_eq!(staff, stored);
    let held_only = ItemFilter {
        status: Some(ItemStatus::Held),
        ..hidden_from(None)
    };
    assert_eq!(
        all_pages(&*store, &held_only, 7, Order::OldestFirst).await?,
        without_banned
    );
    Ok(())
}

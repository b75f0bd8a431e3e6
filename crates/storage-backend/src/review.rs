//! The review queue's `ReviewStore` on the SQL backends.
//!
//! The body is written once as a macro, [`impl_review_store!`], and
//! instantiated for `SqliteStore` and `PgStore` (sqlx's executors are typed
//! per database). Every write follows one pattern inside one transaction:
//! read the rows it touches under a lock (`FOR UPDATE` on PostgreSQL; on
//! SQLite the single writer's `BEGIN IMMEDIATE` already excludes other
//! writers), decide in Rust with moderation-core's own checks
//! (`ReviewTransition::refusal`, `Claim::refusal`, `released`,
//! `ReviewItem::merge`) so every store refuses exactly what the memory store
//! refuses, then write the new states in one statement per batch and the
//! history in one statement per batch, and every transition's
//! moderation-log entry through `crate::modlog`'s append helper. A refusal returns before any write,
//! and the dropped transaction rolls back.

use crate::sql::Placeholder;

/// What a backend adds to the shared implementation.
pub(crate) trait ReviewBackend {
    /// The driver's connection type.
    type Conn;
    /// Appended to a `SELECT` to lock the rows it reads until commit.
    const LOCK: &'static str;
    /// The placeholder style of statements assembled at run time.
    const STYLE: Placeholder;
}

/// Implements `moderation_core::ReviewStore` for a SQL store type.
macro_rules! impl_review_store {
    ($store:ty, $backend:literal, $append:path) => {
        type ReviewConn = <$store as $crate::review::ReviewBackend>::Conn;

        #[async_trait::async_trait]
        impl moderation_core::ReviewStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, subject = %review.subject))]
            async fn open(
                &self,
                review: moderation_core::NewReview,
            ) -> Result<moderation_core::Opened, moderation_core::ModerationError> {
                self.settle(async move {
                    use $crate::error::StorageError;
                    use moderation_core::{Opened, ReviewEvent, ReviewHistoryEntry, ReviewId};
                    let encoded = $crate::review_record::EncodedReview::new(&review)?;
                    let mut tx = self.begin_write().await?;
                    // Two rounds at most: an insert that loses to a concurrent
                    // open of the same subject finds its pending row next time.
                    for _ in 0..2 {
                        let lock = <$store as $crate::review::ReviewBackend>::LOCK;
                        let pending = sqlx::query_as::<_, $crate::review_record::ReviewRow>(
                            sqlx::AssertSqlSafe($crate::review_sql::pending_for_subject(lock)),
                        )
                        .bind(encoded.subject_key.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StorageError::from)?;
                        if let Some(row) = pending {
                            let mut item = $crate::review_record::decode_review(row)?;
                            let step = item.merge(&review);
                            save_states(&mut tx, std::slice::from_ref(&item)).await?;
                            insert_codes(&mut tx, item.id.0, &review.reasons).await?;
                            insert_history(&mut tx, &[step]).await?;
                            tx.commit().await.map_err(StorageError::from)?;
                            return Ok(Opened { item, created: false });
                        }
                        let template = review.clone().into_item(ReviewId(0));
                        let inserted: Option<i64> = sqlx::query_scalar($crate::review_sql::INSERT_REVIEW)
                            .bind(encoded.subject_key.as_str())
                            .bind(template.kind.as_str())
                            .bind(encoded.author_key.as_deref())
                            .bind($crate::review_record::encode_reasons(&template.reasons)?)
                            .bind(template.score)
                            .bind(template.priority)
                            .bind($crate::record::to_micros(template.created_at))
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StorageError::from)?;
                        let Some(id) = inserted else { continue };
                        let item = moderation_core::ReviewItem { id: ReviewId(id), ..template };
                        insert_codes(&mut tx, id, &review.reasons).await?;
                        let step = ReviewHistoryEntry::step(&item, ReviewEvent::Open, None, None, item.created_at);
                        insert_history(&mut tx, &[step]).await?;
                        tx.commit().await.map_err(StorageError::from)?;
                        return Ok(Opened { item, created: true });
                    }
                    Err(StorageError::corrupt(
                        "subject_key",
                        &"a pending item for this subject appeared and vanished twice; retry the open",
                    )
                    .into())
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, review = id.0))]
            async fn review(
                &self,
                id: moderation_core::ReviewId,
            ) -> Result<Option<moderation_core::ReviewItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    sqlx::query_as::<_, $crate::review_record::ReviewRow>($crate::review_sql::SELECT_REVIEW)
                        .bind(id.0)
                        .fetch_optional(self.pool_reader())
                        .await
                        .map_err($crate::error::StorageError::from)?
                        .map($crate::review_record::decode_review)
                        .transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, subject = %subject))]
            async fn review_for_subject(
                &self,
                subject: &moderation_core::ReviewSubject,
            ) -> Result<Option<moderation_core::ReviewItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    sqlx::query_as::<_, $crate::review_record::ReviewRow>(
                        $crate::review_sql::NEWEST_FOR_SUBJECT,
                    )
                    .bind(subject.key())
                    .fetch_optional(self.pool_reader())
                    .await
                    .map_err($crate::error::StorageError::from)?
                    .map($crate::review_record::decode_review)
                    .transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = subjects.len()))]
            async fn reviews_for_subjects(
                &self,
                subjects: &[moderation_core::ReviewSubject],
            ) -> Result<Vec<moderation_core::ReviewItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let keys: std::collections::BTreeSet<String> =
                        subjects.iter().map(moderation_core::ReviewSubject::key).collect();
                    let keys: Vec<String> = keys.into_iter().collect();
                    let mut found = Vec::with_capacity(keys.len());
                    for chunk in keys.chunks($crate::review_sql::REVIEW_BATCH_ROWS) {
                        let sql = $crate::review_sql::newest_for_subjects(
                            chunk.len(),
                            <$store as $crate::review::ReviewBackend>::STYLE,
                        );
                        // Only placeholders and fixed fragments (see `review_sql`).
                        let mut query = sqlx::query_as::<_, $crate::review_record::ReviewRow>(
                            sqlx::AssertSqlSafe(sql),
                        );
                        for key in chunk {
                            query = query.bind(key.as_str());
                        }
                        for row in query
                            .fetch_all(self.pool_reader())
                            .await
                            .map_err($crate::error::StorageError::from)?
                        {
                            found.push($crate::review_record::decode_review(row)?);
                        }
                    }
                    Ok(found)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, limit = page.clamped_limit()))]
            async fn list(
                &self,
                filter: &moderation_core::ReviewFilter,
                page: &moderation_core::ReviewPageRequest,
            ) -> Result<moderation_core::ReviewPage, moderation_core::ModerationError> {
                self.settle(async move {
                    use moderation_core::{ReviewCursor, ReviewSort};
                    let limit = page.clamped_limit();
                    let by_score = page.sort == ReviewSort::ScoreDesc;
                    let shape = $crate::review_sql::ReviewListShape {
                        status: filter.status.is_some(),
                        kind: filter.kind.is_some(),
                        reason: filter.reason.is_some(),
                        author: filter.author.is_some(),
                        created_from: filter.created_from.is_some(),
                        created_before: filter.created_before.is_some(),
                        min_priority: filter.min_priority.is_some(),
                        after: page.after.is_some(),
                        by_score,
                    };
                    let author = filter.author.as_ref().map($crate::record::author_key).transpose()?;
                    let sql = $crate::review_sql::list_reviews(shape);
                    // Only placeholders and fixed fragments (see `review_sql`).
                    let mut query = sqlx::query_as::<_, $crate::review_record::ReviewRow>(
                        sqlx::AssertSqlSafe(sql),
                    );
                    if let Some(status) = filter.status {
                        query = query.bind(status.as_str());
                    }
                    if let Some(kind) = &filter.kind {
                        query = query.bind(kind.as_str());
                    }
                    if let Some(code) = &filter.reason {
                        query = query.bind(code.as_str());
                    }
                    if let Some(author) = author {
                        query = query.bind(author);
                    }
                    if let Some(from) = filter.created_from {
                        query = query.bind($crate::record::to_micros(from));
                    }
                    if let Some(before) = filter.created_before {
                        query = query.bind($crate::record::to_micros(before));
                    }
                    if let Some(priority) = filter.min_priority {
                        query = query.bind(priority);
                    }
                    if let Some(cursor) = &page.after {
                        let key = if by_score {
                            cursor.score
                        } else {
                            $crate::record::to_micros(cursor.created_at)
                        };
                        query = query.bind(key).bind(cursor.id.0);
                    }
                    // One row more than asked tells whether a next page exists.
                    let rows = query
                        .bind(i64::from(limit) + 1)
                        .fetch_all(self.pool_reader())
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    let mut items = rows
                        .into_iter()
                        .map($crate::review_record::decode_review)
                        .collect::<Result<Vec<_>, _>>()?;
                    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
                    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                    let next = if more { items.last().map(ReviewCursor::after) } else { None };
                    Ok(moderation_core::ReviewPage { items, next })
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, review = claim.review.0))]
            async fn claim(
                &self,
                claim: moderation_core::Claim,
            ) -> Result<moderation_core::ReviewItem, moderation_core::ModerationError> {
                self.settle(async move {
                    use moderation_core::{ReviewEvent, ReviewHistoryEntry};
                    let mut tx = self.begin_write().await?;
                    let before = lock_one(&mut tx, claim.review).await?;
                    if let Some(refusal) = claim.refusal(&before) {
                        return Err(refusal);
                    }
                    let item = claim.applied_to(before);
                    save_states(&mut tx, std::slice::from_ref(&item)).await?;
                    let step = ReviewHistoryEntry::step(&item, ReviewEvent::Claim, Some(claim.by.clone()), Some(item.status), claim.at);
                    insert_history(&mut tx, &[step]).await?;
                    tx.commit().await.map_err($crate::error::StorageError::from)?;
                    Ok(item)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, review = review.0))]
            async fn release(
                &self,
                review: moderation_core::ReviewId,
                by: &moderation_core::UserId,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<moderation_core::ReviewItem, moderation_core::ModerationError> {
                self.settle(async move {
                    use moderation_core::{ReviewEvent, ReviewHistoryEntry};
                    let mut tx = self.begin_write().await?;
                    let before = lock_one(&mut tx, review).await?;
                    let Some(item) = moderation_core::released(&before, by, at)? else {
                        return Ok(before);
                    };
                    save_states(&mut tx, std::slice::from_ref(&item)).await?;
                    let step = ReviewHistoryEntry::step(&item, ReviewEvent::Release, Some(by.clone()), Some(item.status), at);
                    insert_history(&mut tx, &[step]).await?;
                    tx.commit().await.map_err($crate::error::StorageError::from)?;
                    Ok(item)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, review = transition.review.0))]
            async fn transition(
                &self,
                transition: moderation_core::ReviewTransition,
            ) -> Result<moderation_core::ReviewItem, moderation_core::ModerationError> {
                self.settle(async move {
                    let mut items = self.transition_batch(vec![transition]).await?;
                    items.pop().ok_or_else(|| {
                        $crate::error::StorageError::corrupt("id", &"a transition returned no item").into()
                    })
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = transitions.len()))]
            async fn transition_batch(
                &self,
                transitions: Vec<moderation_core::ReviewTransition>,
            ) -> Result<Vec<moderation_core::ReviewItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    use std::collections::BTreeMap;
                    use moderation_core::{ModerationError, ReviewId, ReviewItem};
                    if transitions.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut tx = self.begin_write().await?;
                    let mut ids: Vec<ReviewId> = transitions.iter().map(|t| t.review).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    // Locking in id order keeps two batches from deadlocking.
                    let mut staged: BTreeMap<ReviewId, ReviewItem> = BTreeMap::new();
                    for chunk in ids.chunks($crate::review_sql::REVIEW_BATCH_ROWS) {
                        staged.extend(lock_many(&mut tx, chunk).await?);
                    }
                    let mut applied = Vec::with_capacity(transitions.len());
                    let mut steps = Vec::with_capacity(transitions.len());
                    let mut entries = Vec::with_capacity(transitions.len());
                    for transition in &transitions {
                        let before = staged
                            .get(&transition.review)
                            .cloned()
                            .ok_or(ModerationError::ReviewNotFound { review: transition.review })?;
                        if let Some(refusal) = transition.refusal(&before) {
                            return Err(refusal);
                        }
                        steps.push(transition.history_entry(&before));
                        let entry = transition.log_entry(&before);
                        entry.validate()?;
                        entries.push(entry);
                        let after = transition.applied_to(before);
                        staged.insert(after.id, after.clone());
                        applied.push(after);
                    }
                    let finals: Vec<ReviewItem> = staged.into_values().collect();
                    save_states(&mut tx, &finals).await?;
                    insert_history(&mut tx, &steps).await?;
                    // The moderation log's own helper, one entry per step, in
                    // this transaction: the action and its entry commit together.
                    for entry in &entries {
                        $append(&mut tx, entry).await?;
                    }
                    tx.commit().await.map_err($crate::error::StorageError::from)?;
                    Ok(applied)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, review = review.0))]
            async fn history(
                &self,
                review: moderation_core::ReviewId,
            ) -> Result<Vec<moderation_core::ReviewHistoryEntry>, moderation_core::ModerationError> {
                self.settle(async move {
                    sqlx::query_as::<_, $crate::review_record::HistoryRow>(
                        $crate::review_sql::HISTORY_FOR_REVIEW,
                    )
                    .bind(review.0)
                    .fetch_all(self.pool_reader())
                    .await
                    .map_err($crate::error::StorageError::from)?
                    .into_iter()
                    .map($crate::review_record::decode_history)
                    .collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, limit))]
            async fn stale(
                &self,
                before: chrono::DateTime<chrono::Utc>,
                after: Option<moderation_core::ReviewCursor>,
                limit: u32,
            ) -> Result<Vec<moderation_core::ReviewItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let filter = moderation_core::ReviewFilter {
                        created_before: Some(before),
                        ..moderation_core::ReviewFilter::pending()
                    };
                    let page = moderation_core::ReviewPageRequest {
                        sort: moderation_core::ReviewSort::Oldest,
                        after,
                        limit,
                    };
                    Ok(self.list(&filter, &page).await?.items)
                })
                .await
            }
        }

        /// One row, locked; `ReviewNotFound` when there is none.
        async fn lock_one(
            conn: &mut ReviewConn,
            review: moderation_core::ReviewId,
        ) -> Result<moderation_core::ReviewItem, moderation_core::ModerationError> {
            lock_many(conn, &[review])
                .await?
                .pop()
                .map(|(_, item)| item)
                .ok_or(moderation_core::ModerationError::ReviewNotFound { review })
        }

        /// The rows of `ids`, locked, in one statement.
        async fn lock_many(
            conn: &mut ReviewConn,
            ids: &[moderation_core::ReviewId],
        ) -> Result<Vec<(moderation_core::ReviewId, moderation_core::ReviewItem)>, moderation_core::ModerationError> {
            use $crate::review::ReviewBackend;
            let sql = $crate::review_sql::select_reviews(ids.len(), <$store>::STYLE, <$store>::LOCK);
            // Only placeholders and fixed fragments (see `review_sql`).
            let mut query = sqlx::query_as::<_, $crate::review_record::ReviewRow>(sqlx::AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(id.0);
            }
            query
                .fetch_all(&mut *conn)
                .await
                .map_err($crate::error::StorageError::from)?
                .into_iter()
                .map(|row| $crate::review_record::decode_review(row).map(|item| (item.id, item)))
                .collect()
        }

        /// Writes the mutable columns of `items`, one statement per batch.
        async fn save_states(
            conn: &mut ReviewConn,
            items: &[moderation_core::ReviewItem],
        ) -> Result<(), moderation_core::ModerationError> {
            use $crate::review::ReviewBackend;
            for chunk in items.chunks($crate::review_sql::REVIEW_BATCH_ROWS) {
                let states = chunk
                    .iter()
                    .map($crate::review_record::ItemState::of)
                    .collect::<Result<Vec<_>, _>>()?;
                let sql = $crate::review_sql::save_states(states.len(), <$store>::STYLE);
                // Only placeholders and fixed fragments (see `review_sql`).
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for state in states {
                    query = query
                        .bind(state.id)
                        .bind(state.reasons)
                        .bind(state.score)
                        .bind(state.status)
                        .bind(state.priority)
                        .bind(state.updated_at)
                        .bind(state.claimed_by)
                        .bind(state.claim_expires_at)
                        .bind(state.version);
                }
                query
                    .execute(&mut *conn)
                    .await
                    .map_err($crate::error::StorageError::from)?;
            }
            Ok(())
        }

        /// Appends history steps, one statement per batch.
        async fn insert_history(
            conn: &mut ReviewConn,
            steps: &[moderation_core::ReviewHistoryEntry],
        ) -> Result<(), moderation_core::ModerationError> {
            use $crate::review::ReviewBackend;
            for chunk in steps.chunks($crate::review_sql::REVIEW_BATCH_ROWS) {
                let sql = $crate::review_sql::insert_history(chunk.len(), <$store>::STYLE);
                // Only placeholders and fixed fragments (see `review_sql`).
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for step in chunk {
                    query = query
                        .bind(step.review.0)
                        .bind(step.event.as_str())
                        .bind(step.actor.as_ref().map(|user| user.as_str().to_owned()))
                        .bind(step.from_status.map(|status| status.as_str()))
                        .bind(step.to_status.as_str())
                        .bind(step.reason.clone())
                        .bind(step.message.clone())
                        .bind(step.bulk.map(|bulk| bulk.to_string()))
                        .bind($crate::record::to_micros(step.at));
                }
                query
                    .execute(&mut *conn)
                    .await
                    .map_err($crate::error::StorageError::from)?;
            }
            Ok(())
        }

        /// Records the codes of `reasons` for the reason filter.
        async fn insert_codes(
            conn: &mut ReviewConn,
            review: i64,
            reasons: &[moderation_core::ReviewReason],
        ) -> Result<(), moderation_core::ModerationError> {
            use $crate::review::ReviewBackend;
            let mut codes: Vec<&str> = reasons.iter().map(|reason| reason.code.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            for chunk in codes.chunks($crate::review_sql::REVIEW_BATCH_ROWS) {
                let sql = $crate::review_sql::insert_codes(chunk.len(), <$store>::STYLE);
                // Only placeholders and fixed fragments (see `review_sql`).
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for code in chunk {
                    query = query.bind(review).bind(*code);
                }
                query
                    .execute(&mut *conn)
                    .await
                    .map_err($crate::error::StorageError::from)?;
            }
            Ok(())
        }
    };
}

pub(crate) use impl_review_store;

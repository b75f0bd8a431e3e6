//! The pagination invariant of the review queue (proptest over the memory
//! store): whatever the items, filter, sort and page size, the pages join up
//! to exactly the filtered, sorted list: no duplicate, no gap.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use moderation_core::{
    ItemId, Kind, MemoryReviewStore, NewReview, ReviewFilter, ReviewItem, ReviewPageRequest,
    ReviewReason, ReviewSort, ReviewStatus, ReviewStore, ReviewSubject,
};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn pages(
    store: &MemoryReviewStore,
    filter: &ReviewFilter,
    sort: ReviewSort,
    limit: u32,
) -> Vec<ReviewItem> {
    let mut request = ReviewPageRequest::first(sort, limit);
    let mut items = Vec::new();
    loop {
        let page = store.list(filter, &request).await.unwrap();
        items.extend(page.items);
        match page.next {
            Some(cursor) => request = request.next(cursor),
            None => return items,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn keyset_pages_have_no_duplicates_and_no_gaps(
        // (score, minutes after the start, priority): few distinct values, so ties abound.
        specs in prop::collection::vec((0_i32..4, 0_i64..5, 0_i32..3), 0..60),
        limit in 1_u32..8,
        by_score in any::<bool>(),
        min_priority in prop::option::of(0_i32..3),
    ) {
        runtime().block_on(async {
            let store = MemoryReviewStore::new();
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let mut all = Vec::new();
            for (n, (score, minutes, priority)) in (0_i64..).zip(&specs) {
                let review = NewReview {
                    subject: ReviewSubject::Submission(ItemId(n)),
                    kind: Kind::new("blog.comment").unwrap(),
                    author: None,
                    reasons: vec![ReviewReason::new("hold", "Held", *score)],
                    priority: *priority,
                    created_at: start + Duration::minutes(*minutes),
                };
                all.push(store.open(review).await.unwrap().item);
            }
            let sort = if by_score { ReviewSort::ScoreDesc } else { ReviewSort::Oldest };
            let filter = ReviewFilter { status: Some(ReviewStatus::Pending), min_priority, ..ReviewFilter::default() };
            let listed = pages(&store, &filter, sort, limit).await;
            let mut expected: Vec<ReviewItem> = all.into_iter().filter(|item| filter.matches(item)).collect();
            match sort {
                ReviewSort::ScoreDesc => expected.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id))),
                ReviewSort::Oldest => expected.sort_by_key(|item| (item.created_at, item.id)),
            }
            prop_assert_eq!(listed, expected);
            Ok(())
        })?;
    }
}

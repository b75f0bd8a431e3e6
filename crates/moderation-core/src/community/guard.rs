//! The low-contribution guard (D5, from Agouti's audit mode).
//!
//! An author with fewer than `threshold` live contributions whose content
//! carries a link (bare URLs and domain-like text count) or a watched word
//! with the `freeze` action gets the content held and themselves frozen
//! until staff look. For an edit only what the edit adds is screened, so
//! fixing a typo in a post that was approved with a link is not held again.

use std::ops::Range;
use std::time::Duration;

use moderation_diff::{Granularity, SpanOp, TextDiff};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::content::PostFeatures;
use super::words::WordMatch;
use crate::actor::Actor;
use crate::decision::Reason;

/// Settings of the guard.
///
/// ```
/// use moderation_core::community::{LowContributionGuard, PostFeatures};
/// use moderation_core::{Actor, UserId};
/// let guard = LowContributionGuard::default();
/// let author = Actor::user(UserId::from(5_i64));
/// let features = PostFeatures::of("cheap pills at pills.example");
/// assert!(guard.screen(&author, 0, &features, &[]).is_some());
/// assert!(guard.screen(&author, 3, &features, &[]).is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LowContributionGuard {
    /// Off switch.
    pub enabled: bool,
    /// Authors with fewer live posts and comments than this are screened.
    pub threshold: u64,
    /// Whether an image embed counts like a link.
    pub images_count: bool,
}

impl Default for LowContributionGuard {
    fn default() -> Self {
        Self {
            enabled: true,
            threshold: 3,
            images_count: false,
        }
    }
}

/// Why the guard held content.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardFinding {
    /// The reasons, for the review item and the decision.
    pub reasons: Vec<Reason>,
}

impl LowContributionGuard {
    /// `Some` when `author`, with `contributions` live posts and comments,
    /// must be held and frozen for `features` and `freeze_words` (matches
    /// with the `freeze` action). Staff are never screened.
    #[must_use]
    pub fn screen(
        &self,
        author: &Actor,
        contributions: u64,
        features: &PostFeatures,
        freeze_words: &[&WordMatch],
    ) -> Option<GuardFinding> {
        if !self.enabled || author.is_staff() || contributions >= self.threshold {
            return None;
        }
        let mut reasons = Vec::new();
        if !features.links.is_empty() {
            let links: Vec<&str> = features.links.iter().map(|l| l.url.as_str()).collect();
            reasons.push(
                Reason::new(
                    "low_contribution_link",
                    format!(
                        "A member with fewer than {} contributions posted a link",
                        self.threshold
                    ),
                )
                .with_detail(json!({ "links": links, "contributions": contributions })),
            );
        }
        if self.images_count && features.images > 0 {
            reasons.push(
                Reason::new(
                    "low_contribution_image",
                    format!(
                        "A member with fewer than {} contributions posted an image",
                        self.threshold
                    ),
                )
                .with_detail(json!({ "images": features.images, "contributions": contributions })),
            );
        }
        if !freeze_words.is_empty() {
            let matches: Vec<_> = freeze_words
                .iter()
                .map(|m| json!({ "word": m.word, "matched": m.matched, "span": [m.span.start, m.span.end] }))
                .collect();
            reasons.push(
                Reason::new(
                    "freeze_word",
                    format!(
                        "A member with fewer than {} contributions used a watched word",
                        self.threshold
                    ),
                )
                .with_detail(json!({ "matches": matches, "contributions": contributions })),
            );
        }
        (!reasons.is_empty()).then_some(GuardFinding { reasons })
    }
}

/// The byte ranges of `after` that an edit of `before` added: each inserted
/// run widened to the whitespace-separated words around it (so a link
/// completed by the edit, `example` to `example.com`, is seen whole).
#[must_use]
pub fn added_ranges(before: &str, after: &str) -> Vec<Range<usize>> {
    let diff = TextDiff::new(before, after, Granularity::Word, Duration::from_millis(200));
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    for span in diff.spans() {
        match span.op {
            SpanOp::Delete => {}
            SpanOp::Equal => at += span.text.len(),
            SpanOp::Insert => {
                let end = at + span.text.len();
                let start = after
                    .get(..at)
                    .and_then(|s| {
                        s.char_indices()
                            .rev()
                            .find(|(_, c)| c.is_whitespace())
                            .map(|(i, c)| i + c.len_utf8())
                    })
                    .unwrap_or(0);
                let stop = after
                    .get(end..)
                    .and_then(|s| s.find(char::is_whitespace).map(|i| end + i))
                    .unwrap_or(after.len());
                match ranges.last_mut() {
                    Some(last) if last.end >= start => last.end = last.end.max(stop),
                    _ => ranges.push(start..stop),
                }
                at = end;
            }
        }
    }
    ranges
}

/// The text of [`added_ranges`], joined by newlines.
///
/// ```
/// use moderation_core::community::added_text;
/// assert_eq!(added_text("see example", "see example.com now"), "example.com now");
/// ```
#[must_use]
pub fn added_text(before: &str, after: &str) -> String {
    added_ranges(before, after)
        .into_iter()
        .filter_map(|r| after.get(r))
        .collect::<Vec<_>>()
        .join("\n")
}

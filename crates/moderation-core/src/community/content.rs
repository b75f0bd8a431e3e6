//! New-user content limits (D4): what a post carries, counted once.
//!
//! Links are bare URLs and domain-like text (`example.com/x`), found with
//! `linkify`; an image embed (`![alt](url)` or `<img>`) counts as an image,
//! not as a link. Mentions are `@name` not preceded by a word character, so
//! e-mail addresses do not count.

use std::ops::Range;

use linkify::{LinkFinder, LinkKind};
use memchr::{memchr, memchr_iter, memmem};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::refusal::Refusal;
use crate::actor::{Actor, TrustLevel};
use crate::error::ModerationError;

/// One link in a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Byte range in the text.
    pub span: Range<usize>,
    /// The link as written.
    pub url: String,
    /// Its host, lower-cased, without `www.`.
    pub host: String,
}

/// What one post carries.
///
/// ```
/// use moderation_core::community::PostFeatures;
/// let features = PostFeatures::of("see example.com and https://Docs.rs/x ![i](https://img.test/a.png) @ann mail@b.org");
/// assert_eq!(features.links.len(), 2);
/// assert_eq!(features.hosts(), ["docs.rs", "example.com"]);
/// assert_eq!((features.images, features.mentions), (1, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFeatures {
    /// Links outside image embeds.
    pub links: Vec<Link>,
    /// Image embeds.
    pub images: u32,
    /// `@name` mentions.
    pub mentions: u32,
}

/// Byte ranges of image embeds: `![alt](url)` and `<img ...>`.
fn image_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(start) = bytes
        .get(from..)
        .and_then(|rest| memmem::find(rest, b"!["))
        .map(|i| from + i)
    {
        let close = bytes
            .get(start..)
            .and_then(|rest| memmem::find(rest, b"](").map(|i| start + i))
            .and_then(|mid| {
                bytes
                    .get(mid..)
                    .and_then(|rest| memchr(b')', rest).map(|i| mid + i + 1))
            });
        match close {
            Some(end) => {
                spans.push(start..end);
                from = end;
            }
            None => from = start + 2,
        }
    }
    // `<img`, in any case, up to the next `>` (or the end).
    from = 0;
    while let Some(start) = bytes
        .get(from..)
        .and_then(|rest| memchr(b'<', rest))
        .map(|i| from + i)
    {
        if !bytes
            .get(start + 1..start + 4)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"img"))
        {
            from = start + 1;
            continue;
        }
        let end = bytes
            .get(start..)
            .and_then(|rest| memchr(b'>', rest))
            .map_or(bytes.len(), |i| start + i + 1);
        spans.push(start..end);
        from = end;
    }
    spans
}

/// Whether `byte` separates words for link finding: no link holds a space
/// or an ASCII control character (linkify stops at each, both scanning
/// back to a link's start and forward to its end).
fn is_link_break(byte: u8) -> bool {
    byte <= b' '
}

/// The words of `text` (runs between spaces and control characters) that
/// can hold a link, in order. linkify only finds a link at a `://` or at a
/// `.` followed by a domain label, so only the words holding one are handed
/// to it; ordinary prose, full stops and all, is not scanned at all.
fn link_words(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let label_dots = memchr_iter(b'.', bytes).filter(|&at| {
        bytes
            .get(at + 1)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || !b.is_ascii())
    });
    let mut candidates: Vec<usize> = label_dots.chain(memmem::find_iter(bytes, b"://")).collect();
    candidates.sort_unstable();
    let mut words: Vec<Range<usize>> = Vec::new();
    for at in candidates {
        if words.last().is_some_and(|word| at < word.end) {
            continue;
        }
        let start = bytes
            .get(..at)
            .and_then(|before| before.iter().rposition(|&b| is_link_break(b)))
            .map_or(0, |i| i + 1);
        let end = bytes
            .get(at..)
            .and_then(|after| after.iter().position(|&b| is_link_break(b)))
            .map_or(bytes.len(), |i| at + i);
        words.push(start..end);
    }
    words
}

/// `@name` mentions: an `@` not preceded by a word character (so e-mail
/// addresses do not count) and followed by one.
fn count_mentions(text: &str) -> u32 {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut mentions = 0_u32;
    for at in memchr_iter(b'@', text.as_bytes()) {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + 1..).and_then(|s| s.chars().next());
        if !before.is_some_and(is_word) && after.is_some_and(is_word) {
            mentions = mentions.saturating_add(1);
        }
    }
    mentions
}

/// The host of a link as written (with or without a scheme).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let end = rest.find(['/', '?', '#', ':']).unwrap_or(rest.len());
    let host = rest.get(..end).unwrap_or(rest).to_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

impl PostFeatures {
    /// Finds the links, images and mentions of `text`.
    #[must_use]
    pub fn of(text: &str) -> Self {
        let images = image_spans(text);
        let mut finder = LinkFinder::new();
        finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
        let mut links = Vec::new();
        for word in link_words(text) {
            let Some(word_text) = text.get(word.clone()) else {
                continue;
            };
            for link in finder.links(word_text) {
                let span = word.start + link.start()..word.start + link.end();
                if images
                    .iter()
                    .any(|image| image.start <= span.start && span.end <= image.end)
                {
                    continue;
                }
                links.push(Link {
                    span,
                    url: link.as_str().to_owned(),
                    host: host_of(link.as_str()),
                });
            }
        }
        let mentions = count_mentions(text);
        Self {
            links,
            images: u32::try_from(images.len()).unwrap_or(u32::MAX),
            mentions,
        }
    }

    /// The distinct linked hosts, sorted.
    #[must_use]
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.links.iter().map(|l| l.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }
}

/// Per-post limits for TL0 members (Discourse's defaults), the mention limit
/// for everyone else, and the history-based spam checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentLimits {
    /// Links per post for TL0.
    pub new_user_max_links: u32,
    /// Image embeds per post for TL0.
    pub new_user_max_images: u32,
    /// Attachments per post for TL0.
    pub new_user_max_attachments: u32,
    /// Mentions per post for TL0.
    pub new_user_max_mentions: u32,
    /// Mentions per post for TL1 and above.
    pub max_mentions: u32,
    /// Posts linking one host, this one included, refused as spam (TL0).
    pub same_host_posts: u32,
    /// The window of the same-host check, in seconds.
    pub same_host_window_secs: u64,
    /// The same text again within this many seconds is refused.
    pub duplicate_window_secs: u64,
}

impl Default for ContentLimits {
    fn default() -> Self {
        Self {
            new_user_max_links: 2,
            new_user_max_images: 1,
            new_user_max_attachments: 0,
            new_user_max_mentions: 2,
            max_mentions: 10,
            same_host_posts: 3,
            same_host_window_secs: 86_400,
            duplicate_window_secs: 300,
        }
    }
}

fn over(code: &'static str, what: &str, count: u32, max: u32) -> Refusal {
    Refusal::new(
        code,
        format!("You can include at most {max} {what} per post; this one has {count}. Remove some and post again"),
    )
    .with_detail(json!({ "count": count, "max": max }))
}

impl ContentLimits {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`ModerationError::Config`] naming the bad setting.
    pub fn validate(&self) -> Result<(), ModerationError> {
        if self.same_host_posts == 1 {
            return Err(ModerationError::Config(
                "content_limits.same_host_posts is 1, which refuses every link; use 0 to turn the check off or at least 2".to_owned(),
            ));
        }
        if self.same_host_window_secs > 366 * 86_400 || self.duplicate_window_secs > 366 * 86_400 {
            return Err(ModerationError::Config(
                "content_limits windows must be at most a year".to_owned(),
            ));
        }
        Ok(())
    }

    /// Checks one post's links, images, attachments and mentions.
    ///
    /// # Errors
    /// A [`Refusal`] naming what is over the limit.
    pub fn check(
        &self,
        actor: &Actor,
        features: &PostFeatures,
        attachments: u32,
    ) -> Result<(), Refusal> {
        if actor.is_staff() {
            return Ok(());
        }
        if actor.trust_level.unwrap_or(TrustLevel::Tl0) > TrustLevel::Tl0 {
            if features.mentions > self.max_mentions {
                return Err(over(
                    "too_many_mentions",
                    "mentions",
                    features.mentions,
                    self.max_mentions,
                ));
            }
            return Ok(());
        }
        let links = u32::try_from(features.links.len()).unwrap_or(u32::MAX);
        let limits = [
            ("too_many_links", "links", links, self.new_user_max_links),
            (
                "too_many_images",
                "images",
                features.images,
                self.new_user_max_images,
            ),
            (
                "too_many_attachments",
                "attachments",
                attachments,
                self.new_user_max_attachments,
            ),
            (
                "too_many_mentions",
                "mentions",
                features.mentions,
                self.new_user_max_mentions,
            ),
        ];
        if let Some((code, what, count, max)) =
            limits.into_iter().find(|&(_, _, count, max)| count > max)
        {
            return Err(over(code, what, count, max));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain definition: linkify over every text, image embeds found
    /// in a lower-cased copy, mentions counted character by character.
    fn reference(text: &str) -> PostFeatures {
        let mut images = Vec::new();
        let mut from = 0;
        while let Some(found) = text.get(from..).and_then(|rest| rest.find("![")) {
            let start = from + found;
            let close = text
                .get(start..)
                .and_then(|rest| rest.find("](").map(|i| start + i))
                .and_then(|mid| {
                    text.get(mid..)
                        .and_then(|rest| rest.find(')').map(|i| mid + i + 1))
                });
            match close {
                Some(end) => {
                    images.push(start..end);
                    from = end;
                }
                None => from = start + 2,
            }
        }
        let lower = text.to_ascii_lowercase();
        from = 0;
        while let Some(found) = lower.get(from..).and_then(|rest| rest.find("<img")) {
            let start = from + found;
            let end = lower
                .get(start..)
                .and_then(|rest| rest.find('>'))
                .map_or(lower.len(), |i| start + i + 1);
            images.push(start..end);
            from = end;
        }
        let mut finder = LinkFinder::new();
        finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
        let links = finder
            .links(text)
            .filter(|link| {
                !images
                    .iter()
                    .any(|image| image.start <= link.start() && link.end() <= image.end)
            })
            .map(|link| Link {
                span: link.start()..link.end(),
                url: link.as_str().to_owned(),
                host: host_of(link.as_str()),
            })
            .collect();
        let mut mentions = 0_u32;
        let mut previous: Option<char> = None;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '@'
                && previous.is_none_or(|p| !(p.is_alphanumeric() || p == '_'))
                && chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_')
            {
                mentions += 1;
            }
            previous = Some(c);
        }
        PostFeatures {
            links,
            images: u32::try_from(images.len()).unwrap_or(u32::MAX),
            mentions,
        }
    }

    proptest! {
        #[test]
        fn the_prefiltered_scan_agrees_with_the_plain_definition(
            text in prop_oneof![
                "\\PC{0,60}",
                "[a-zA-Z0-9 .:/@!\\[\\]()<>_\\-'\"éü\\u{3000}\\u{85}\t\n\r\u{1}]{0,60}",
                "(https?://|www\\.|[a-z]{1,5}\\.|@|!\\[[a-z]*\\]\\(|<[iI][mM][gG] |[ .:/)>-]|é|[0-9]){0,16}",
            ]
        ) {
            prop_assert_eq!(PostFeatures::of(&text), reference(&text));
        }
    }
}

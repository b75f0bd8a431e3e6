//! `BanPattern`: username and e-mail patterns for hard bans.

use std::fmt;

use crate::MiseryError;

/// A case-insensitive pattern where `*` is the only wildcard.
///
/// Semantics (Misago's): a pattern without `*` must equal the value. A
/// pattern with `*` is anchored at the start of the value and may stop
/// before its end, so `u*r` matches `User` and `UserOther` but not
/// `NewUser`, and `spam*` matches every name starting with "spam". A bare
/// `*` (or only stars) would ban everyone and is refused.
///
/// ```
/// use moderation_misery::BanPattern;
/// let pattern = BanPattern::new("u*r")?;
/// assert!(pattern.matches("User") && pattern.matches("UserOther"));
/// assert!(!pattern.matches("NewUser"));
/// assert!(BanPattern::new("*").is_err());
/// # Ok::<(), moderation_misery::MiseryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BanPattern {
    original: String,
    lowered: String,
}

impl BanPattern {
    /// Checks and compiles a pattern.
    ///
    /// # Errors
    /// [`MiseryError::VaguePattern`] for an empty pattern or one made only of `*`.
    pub fn new(pattern: &str) -> Result<Self, MiseryError> {
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Err(MiseryError::VaguePattern {
                pattern: pattern.to_owned(),
                why: "it is empty",
            });
        }
        if trimmed.chars().all(|c| c == '*') {
            return Err(MiseryError::VaguePattern {
                pattern: pattern.to_owned(),
                why: "a pattern of only `*` matches everyone",
            });
        }
        Ok(Self {
            original: trimmed.to_owned(),
            lowered: trimmed.to_lowercase(),
        })
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether `value` matches, ignoring case.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        let value = value.trim().to_lowercase();
        if !self.lowered.contains('*') {
            return value == self.lowered;
        }
        let mut segments = self.lowered.split('*');
        let first = segments.next().unwrap_or_default();
        let Some(mut rest) = value.strip_prefix(first) else {
            return false;
        };
        // With an open end, taking the leftmost occurrence of each segment
        // is never worse than a later one, so no backtracking is needed.
        for segment in segments.filter(|s| !s.is_empty()) {
            match rest.find(segment) {
                Some(at) => rest = rest.get(at + segment.len()..).unwrap_or_default(),
                None => return false,
            }
        }
        true
    }
}

impl fmt::Display for BanPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_star_r_matches_user_and_userother_not_newuser() {
        let pattern = BanPattern::new("u*r").unwrap();
        assert!(pattern.matches("User"));
        assert!(pattern.matches("UserOther"));
        assert!(!pattern.matches("NewUser"));
    }

    #[test]
    fn patterns_ignore_case_and_exact_patterns_match_whole_values() {
        let exact = BanPattern::new("Troll").unwrap();
        assert!(exact.matches("tROLL"));
        assert!(!exact.matches("Troll2"));
        assert!(!exact.matches("ATroll"));
        let email = BanPattern::new("*@SPAM.example").unwrap();
        assert!(email.matches("bob@spam.example"));
        assert!(!email.matches("bob@ham.example"));
    }

    #[test]
    fn bare_star_and_empty_patterns_are_refused() {
        for vague in ["*", "**", "", "  "] {
            assert!(
                matches!(
                    BanPattern::new(vague),
                    Err(MiseryError::VaguePattern { .. })
                ),
                "{vague:?}"
            );
        }
    }

    #[test]
    fn several_wildcards_match_in_order() {
        let pattern = BanPattern::new("a*b*c").unwrap();
        assert!(pattern.matches("aXbYc"));
        assert!(pattern.matches("abcdef"));
        assert!(!pattern.matches("acb"));
    }
}

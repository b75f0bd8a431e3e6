//! The comment moderation options of a moderator (SPEC B1-B7, C8).

use crate::spam::SpamCheck;

/// The built-in options a [`Moderator`](crate::Moderator) turns on.
///
/// Defaults follow Django's `CommentModerator` (every option off), plus the
/// auto-approval of superusers and staff (on, as in django-moderation).
/// Field names are read from the parent object's serde form.
///
/// ```
/// use moderation_core::CommentOptions;
/// let options = CommentOptions::default()
///     .enable_field("enable_comments")
///     .close_after("pub_date", 30)
///     .moderate_after("pub_date", 7)
///     .email_notification(true);
/// assert_eq!(options.close_after, Some(30));
/// ```
#[derive(Debug, Clone)]
pub struct CommentOptions {
    /// A boolean field of the parent: false (or null) discards the comment (B1).
    pub enable_field: Option<String>,
    /// The parent's date field read by `close_after`.
    pub auto_close_field: Option<String>,
    /// Discard when whole days since `auto_close_field` are `>=` this (B2).
    pub close_after: Option<u32>,
    /// The parent's date field read by `moderate_after`.
    pub auto_moderate_field: Option<String>,
    /// Hold when whole days since `auto_moderate_field` are `>=` this (B3).
    pub moderate_after: Option<u32>,
    /// Hold authors without a public item of this kind (B5).
    pub moderate_first_timers: bool,
    /// Hold every submission (B5).
    pub always_moderate: bool,
    /// Notify staff of every saved submission (B7).
    pub email_notification: bool,
    /// Reject anonymous authors (off by default: Django accepts anonymous comments).
    pub reject_anonymous: bool,
    /// Reject members of these groups (wins over every auto-approval).
    pub deny_groups: Vec<String>,
    /// Publish superusers' submissions at once (default on).
    pub approve_superusers: bool,
    /// Publish staff submissions at once (default on).
    pub approve_staff: bool,
    /// Publish submissions of members of these groups at once.
    pub allow_groups: Vec<String>,
    /// The spam check, if any (B6).
    pub spam: Option<SpamCheck>,
}

impl Default for CommentOptions {
    fn default() -> Self {
        Self {
            enable_field: None,
            auto_close_field: None,
            close_after: None,
            auto_moderate_field: None,
            moderate_after: None,
            moderate_first_timers: false,
            always_moderate: false,
            email_notification: false,
            reject_anonymous: false,
            deny_groups: Vec::new(),
            approve_superusers: true,
            approve_staff: true,
            allow_groups: Vec::new(),
            spam: None,
        }
    }
}

impl CommentOptions {
    /// Sets the parent's boolean field that enables comments.
    #[must_use]
    pub fn enable_field(mut self, field: impl Into<String>) -> Self {
        self.enable_field = Some(field.into());
        self
    }

    /// Closes comments `days` whole days after the parent's `field`.
    #[must_use]
    pub fn close_after(mut self, field: impl Into<String>, days: u32) -> Self {
        self.auto_close_field = Some(field.into());
        self.close_after = Some(days);
        self
    }

    /// Holds comments `days` whole days after the parent's `field`.
    #[must_use]
    pub fn moderate_after(mut self, field: impl Into<String>, days: u32) -> Self {
        self.auto_moderate_field = Some(field.into());
        self.moderate_after = Some(days);
        self
    }

    /// Holds authors' first submissions.
    #[must_use]
    pub fn moderate_first_timers(mut self, on: bool) -> Self {
        self.moderate_first_timers = on;
        self
    }

    /// Holds every submission.
    #[must_use]
    pub fn always_moderate(mut self, on: bool) -> Self {
        self.always_moderate = on;
        self
    }

    /// Notifies staff of every saved submission.
    #[must_use]
    pub fn email_notification(mut self, on: bool) -> Self {
        self.email_notification = on;
        self
    }

    /// Rejects anonymous authors.
    #[must_use]
    pub fn reject_anonymous(mut self, on: bool) -> Self {
        self.reject_anonymous = on;
        self
    }

    /// Adds a deny group.
    #[must_use]
    pub fn deny_group(mut self, group: impl Into<String>) -> Self {
        self.deny_groups.push(group.into());
        self
    }

    /// Adds an allow group.
    #[must_use]
    pub fn allow_group(mut self, group: impl Into<String>) -> Self {
        self.allow_groups.push(group.into());
        self
    }

    /// Turns the auto-approval of staff on or off.
    #[must_use]
    pub fn approve_staff(mut self, on: bool) -> Self {
        self.approve_staff = on;
        self
    }

    /// Turns the auto-approval of superusers on or off.
    #[must_use]
    pub fn approve_superusers(mut self, on: bool) -> Self {
        self.approve_superusers = on;
        self
    }

    /// Sets the spam check.
    #[must_use]
    pub fn spam(mut self, check: SpamCheck) -> Self {
        self.spam = Some(check);
        self
    }
}

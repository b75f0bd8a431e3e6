//! Per-kind workflow options: each registered kind owns its own copy.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use moderation_diff::DiffOptions;

use super::rules::AutoRule;
use super::scope::FieldScope;

/// How one kind of object is moderated (django-moderation's
/// `GenericModerator` attributes). Built by value and moved into the
/// workflow at registration, so two kinds never share a list (C9).
///
/// ```
/// use moderation_core::workflow::WorkflowOptions;
/// let options = WorkflowOptions::new()
///     .keep_history(true)
///     .exclude_fields(["views"])
///     .auto_approve_groups(["editors"]);
/// assert!(options.scope().is_moderated("bio"));
/// assert!(!options.scope().is_moderated("views"));
/// ```
#[derive(Clone)]
pub struct WorkflowOptions {
    pub(crate) visible_until_rejected: bool,
    pub(crate) keep_history: bool,
    pub(crate) bypass_after_approval: bool,
    pub(crate) scope: FieldScope,
    pub(crate) reject_anonymous: bool,
    pub(crate) approve_superusers: bool,
    pub(crate) approve_staff: bool,
    pub(crate) approve_groups: BTreeSet<String>,
    pub(crate) reject_groups: BTreeSet<String>,
    pub(crate) custom_rules: Vec<Arc<dyn AutoRule>>,
    pub(crate) diff: DiffOptions,
}

impl Default for WorkflowOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WorkflowOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowOptions")
            .field("visible_until_rejected", &self.visible_until_rejected)
            .field("keep_history", &self.keep_history)
            .field("bypass_after_approval", &self.bypass_after_approval)
            .field("scope", &self.scope)
            .field("reject_anonymous", &self.reject_anonymous)
            .field("approve_superusers", &self.approve_superusers)
            .field("approve_staff", &self.approve_staff)
            .field("approve_groups", &self.approve_groups)
            .field("reject_groups", &self.reject_groups)
            .field("custom_rules", &self.custom_rules.len())
            .finish_non_exhaustive()
    }
}

impl WorkflowOptions {
    /// django-moderation's defaults: everything held for review, anonymous
    /// submitters rejected, superusers and staff approved, all fields
    /// moderated, one entry per object.
    #[must_use]
    pub fn new() -> Self {
        Self {
            visible_until_rejected: false,
            keep_history: false,
            bypass_after_approval: false,
            scope: FieldScope::All,
            reject_anonymous: true,
            approve_superusers: true,
            approve_staff: true,
            approve_groups: BTreeSet::new(),
            reject_groups: BTreeSet::new(),
            custom_rules: Vec::new(),
            diff: DiffOptions::new(),
        }
    }

    /// New objects and edits are public at once; a rejection hides a
    /// never-approved object and reverts an edit to the last approved version (C5).
    #[must_use]
    pub fn visible_until_rejected(mut self, on: bool) -> Self {
        self.visible_until_rejected = on;
        self
    }

    /// Each differing edit opens a new entry, so the whole history stays (C6).
    #[must_use]
    pub fn keep_history(mut self, on: bool) -> Self {
        self.keep_history = on;
        self
    }

    /// After the first approval, edits are live at once until a moderator
    /// sets the object back to pending (C7).
    #[must_use]
    pub fn bypass_moderation_after_approval(mut self, on: bool) -> Self {
        self.bypass_after_approval = on;
        self
    }

    /// Fields whose edits apply at once, without review; every other field
    /// is moderated. Replaces any earlier scope.
    #[must_use]
    pub fn exclude_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope = FieldScope::Exclude(fields.into_iter().map(Into::into).collect());
        self
    }

    /// The only moderated fields (a whitelist); edits to any other field
    /// apply at once. Replaces any earlier scope.
    #[must_use]
    pub fn moderated_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope = FieldScope::Only(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Rejects anonymous submitters (on by default).
    #[must_use]
    pub fn auto_reject_anonymous(mut self, on: bool) -> Self {
        self.reject_anonymous = on;
        self
    }

    /// Approves superusers (on by default).
    #[must_use]
    pub fn auto_approve_superusers(mut self, on: bool) -> Self {
        self.approve_superusers = on;
        self
    }

    /// Approves staff (on by default).
    #[must_use]
    pub fn auto_approve_staff(mut self, on: bool) -> Self {
        self.approve_staff = on;
        self
    }

    /// Approves members of any of these groups. A name no user carries
    /// simply never matches.
    #[must_use]
    pub fn auto_approve_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.approve_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Rejects members of any of these groups, even staff and allow-group
    /// members: rejection rules run first.
    #[must_use]
    pub fn auto_reject_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.reject_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a custom rule; see [`AutoRule`] for where it runs. Its reason
    /// replaces the built-in text.
    #[must_use]
    pub fn rule(mut self, rule: impl AutoRule + 'static) -> Self {
        self.custom_rules.push(Arc::new(rule));
        self
    }

    /// Labels, resolvers and presentations for the diffs moderators see.
    /// The field scope's excluded fields are hidden from diffs on top of
    /// whatever these options exclude.
    #[must_use]
    pub fn diff_options(mut self, options: DiffOptions) -> Self {
        self.diff = options;
        self
    }

    /// The field scope.
    #[must_use]
    pub fn scope(&self) -> &FieldScope {
        &self.scope
    }
}

//! Auto rules (C8): who is approved or rejected without a moderator.
//!
//! The order is fixed: every rejection rule runs before any approval rule,
//! so a staff member in a deny group is rejected. Within each stage custom
//! rules run first, so a custom rule's reason replaces the built-in text.

use std::fmt;

use serde_json::Value;

use super::options::WorkflowOptions;
use crate::actor::Actor;

/// The reason given when an anonymous visitor submits.
pub const REJECTED_ANONYMOUS: &str = "Auto-rejected: Anonymous User";
/// The reason given when the submitter is in a deny group.
pub const REJECTED_GROUP: &str = "Auto-rejected: User in disallowed group";
/// The reason given when the submitter is in an allow group.
pub const APPROVED_GROUP: &str = "Auto-approved: User in allowed group";
/// The reason given when the submitter is a superuser.
pub const APPROVED_SUPERUSER: &str = "Auto-approved: Superuser";
/// The reason given when the submitter is staff.
pub const APPROVED_STAFF: &str = "Auto-approved: Staff";

/// Which way a rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoVerdict {
    /// Publish without review.
    Approve,
    /// Reject without review.
    Reject,
}

/// A rule's decision and the reason stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoDecision {
    /// Approve or reject.
    pub verdict: AutoVerdict,
    /// The reason recorded on the object and shown to the submitter.
    pub reason: String,
}

impl AutoDecision {
    /// An approval with `reason`.
    #[must_use]
    pub fn approve(reason: impl Into<String>) -> Self {
        Self {
            verdict: AutoVerdict::Approve,
            reason: reason.into(),
        }
    }

    /// A rejection with `reason`.
    #[must_use]
    pub fn reject(reason: impl Into<String>) -> Self {
        Self {
            verdict: AutoVerdict::Reject,
            reason: reason.into(),
        }
    }
}

/// A custom auto rule (django-moderation's overridable `is_auto_approve` /
/// `is_auto_reject`). It runs in the stage of [`AutoRule::stage`], before
/// the built-in rules of that stage; the first decision wins.
///
/// ```
/// use moderation_core::Actor;
/// use moderation_core::workflow::{AutoDecision, AutoRule, AutoVerdict};
///
/// #[derive(Debug)]
/// struct Verified;
/// impl AutoRule for Verified {
///     fn stage(&self) -> AutoVerdict { AutoVerdict::Approve }
///     fn check(&self, actor: &Actor, _object: &serde_json::Value) -> Option<AutoDecision> {
///         actor.in_group("verified").then(|| AutoDecision::approve("Verified author"))
///     }
/// }
/// ```
pub trait AutoRule: Send + Sync + fmt::Debug {
    /// The stage it runs in: rejections, then approvals.
    fn stage(&self) -> AutoVerdict;
    /// The decision, or `None` to let later rules decide.
    fn check(&self, actor: &Actor, object: &Value) -> Option<AutoDecision>;
}

/// Runs the rules of `options` in their fixed order; `None` means hold for
/// review.
pub(crate) fn decide(
    options: &WorkflowOptions,
    actor: &Actor,
    object: &Value,
) -> Option<AutoDecision> {
    let custom = |stage: AutoVerdict| {
        options
            .custom_rules
            .iter()
            .filter(move |rule| rule.stage() == stage)
            .find_map(|rule| rule.check(actor, object))
    };
    let in_any = |groups: &std::collections::BTreeSet<String>| {
        groups.iter().any(|group| actor.in_group(group))
    };
    custom(AutoVerdict::Reject)
        .or_else(|| in_any(&options.reject_groups).then(|| AutoDecision::reject(REJECTED_GROUP)))
        .or_else(|| {
            (options.reject_anonymous && actor.is_anonymous())
                .then(|| AutoDecision::reject(REJECTED_ANONYMOUS))
        })
        .or_else(|| custom(AutoVerdict::Approve))
        .or_else(|| in_any(&options.approve_groups).then(|| AutoDecision::approve(APPROVED_GROUP)))
        .or_else(|| {
            (options.approve_superusers && actor.superuser)
                .then(|| AutoDecision::approve(APPROVED_SUPERUSER))
        })
        .or_else(|| {
            (options.approve_staff && actor.staff).then(|| AutoDecision::approve(APPROVED_STAFF))
        })
}

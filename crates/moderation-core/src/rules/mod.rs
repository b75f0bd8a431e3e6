//! The built-in rules, and how options turn into an ordered chain.
//!
//! Each rule is a small [`Rule`] impl; [`builtin`] lists the ones a
//! [`CommentOptions`] turns on, in their fixed order within each stage.

mod auto;
mod content;
mod dates;
mod discard;
mod hold;
mod sanctions;

use std::sync::Arc;

pub use auto::{AutoApprove, AutoReject};
pub use content::SpamRule;
pub use dates::whole_days_elapsed;
pub use discard::{CloseAfter, EnableField};
pub use hold::{AlwaysHold, FirstTimers, ModerateAfter};
pub use sanctions::AuthorSanctions;

use crate::options::CommentOptions;
use crate::rule::Rule;

/// The built-in rules `options` turns on, in run order. `close_after` and
/// `moderate_after` need both a field and a number of days: `None` days
/// disables the option even when a field is named.
#[must_use]
pub fn builtin(options: &CommentOptions) -> Vec<Arc<dyn Rule>> {
    let mut rules: Vec<Arc<dyn Rule>> = Vec::new();
    if let Some(field) = &options.enable_field {
        rules.push(Arc::new(EnableField {
            field: field.clone(),
        }));
    }
    if let (Some(field), Some(days)) = (&options.auto_close_field, options.close_after) {
        rules.push(Arc::new(CloseAfter {
            field: field.clone(),
            days,
        }));
    }
    rules.push(Arc::new(AuthorSanctions));
    if options.reject_anonymous || !options.deny_groups.is_empty() {
        rules.push(Arc::new(AutoReject {
            anonymous: options.reject_anonymous,
            deny_groups: options.deny_groups.clone(),
        }));
    }
    if options.approve_superusers || options.approve_staff || !options.allow_groups.is_empty() {
        rules.push(Arc::new(AutoApprove {
            superusers: options.approve_superusers,
            staff: options.approve_staff,
            allow_groups: options.allow_groups.clone(),
        }));
    }
    if let Some(check) = &options.spam {
        rules.push(Arc::new(SpamRule {
            check: check.clone(),
        }));
    }
    if let (Some(field), Some(days)) = (&options.auto_moderate_field, options.moderate_after) {
        rules.push(Arc::new(ModerateAfter {
            field: field.clone(),
            days,
        }));
    }
    if options.moderate_first_timers {
        rules.push(Arc::new(FirstTimers));
    }
    if options.always_moderate {
        rules.push(Arc::new(AlwaysHold));
    }
    rules
}

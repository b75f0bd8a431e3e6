//! The ordered chain of rules of one registered kind.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;

use crate::decision::{Decision, Reason};
use crate::error::ModerationError;
use crate::moderated::Moderated;
use crate::moderator::Moderator;
use crate::options::CommentOptions;
use crate::rule::{Rule, RuleContext, Stage};
use crate::rules;

/// The rules of one kind, sorted by [`Stage`]; the first decisive one wins.
#[derive(Debug, Clone)]
pub struct Pipeline {
    rules: Vec<Arc<dyn Rule>>,
}

impl Pipeline {
    /// A pipeline from rules in any order: they are sorted by stage, and the
    /// sort is stable, so rules of one stage keep the order given.
    #[must_use]
    pub fn new(mut rules: Vec<Arc<dyn Rule>>) -> Self {
        rules.sort_by_key(|rule| rule.stage());
        Self { rules }
    }

    /// The built-in rules of `options` followed by `extra`, in stage order.
    #[must_use]
    pub fn from_options(options: &CommentOptions, extra: Vec<Arc<dyn Rule>>) -> Self {
        let mut all = rules::builtin(options);
        all.extend(extra);
        Self::new(all)
    }

    /// The rules, in run order.
    #[must_use]
    pub fn rules(&self) -> &[Arc<dyn Rule>] {
        &self.rules
    }

    /// Runs the rules; exactly one decision comes out.
    ///
    /// # Errors
    /// The first rule error stops the run.
    pub async fn decide(&self, ctx: &RuleContext<'_>) -> Result<Decision, ModerationError> {
        for rule in &self.rules {
            if let Some(decision) = rule.check(ctx).await? {
                return Ok(decision);
            }
        }
        Ok(Decision::publish(Reason::new(
            "publish",
            "No rule objected",
        )))
    }

    /// Runs only the rules of `stage`.
    ///
    /// # Errors
    /// The first rule error.
    pub async fn decide_stage(
        &self,
        stage: Stage,
        ctx: &RuleContext<'_>,
    ) -> Result<Option<Decision>, ModerationError> {
        for rule in self.rules.iter().filter(|rule| rule.stage() == stage) {
            if let Some(decision) = rule.check(ctx).await? {
                return Ok(Some(decision));
            }
        }
        Ok(None)
    }
}

/// Runs a moderator's `allow` hook (discard stage) or `moderate` hook (hold
/// stage) as a rule.
pub(crate) struct HookRule<T, M> {
    moderator: Arc<M>,
    stage: Stage,
    _model: PhantomData<fn() -> T>,
}

impl<T, M> HookRule<T, M> {
    pub(crate) fn allow(moderator: Arc<M>) -> Self {
        Self {
            moderator,
            stage: Stage::Discard,
            _model: PhantomData,
        }
    }

    pub(crate) fn moderate(moderator: Arc<M>) -> Self {
        Self {
            moderator,
            stage: Stage::Hold,
            _model: PhantomData,
        }
    }
}

impl<T, M> fmt::Debug for HookRule<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hook = if self.stage == Stage::Discard {
            "allow"
        } else {
            "moderate"
        };
        f.debug_struct("HookRule").field("hook", &hook).finish()
    }
}

#[async_trait]
impl<T: Moderated + 'static, M: Moderator<T>> Rule for HookRule<T, M> {
    fn stage(&self) -> Stage {
        self.stage
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        if self.stage == Stage::Discard {
            let allowed = self.moderator.allow(ctx.submission, &ctx.facts).await?;
            Ok((!allowed)
                .then(|| Decision::discard(Reason::new("allow", "Comments are not accepted here"))))
        } else {
            let hold = self.moderator.moderate(ctx.submission, &ctx.facts).await?;
            Ok(hold.then(|| {
                Decision::hold(Reason::new(
                    "moderate",
                    "The moderator holds this for review",
                ))
            }))
        }
    }
}

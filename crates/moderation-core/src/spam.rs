//! The `SpamClassifier` port and what the pipeline does with its answer (B6).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::BoxError;
use crate::submission::Submission;

/// A classifier's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpamVerdict {
    /// Not spam.
    Ham,
    /// Spam.
    Spam,
    /// The classifier cannot tell.
    Unsure,
}

/// A verdict with the classifier's score (its own scale, kept for the queue).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpamScore {
    /// The verdict.
    pub verdict: SpamVerdict,
    /// The classifier's score.
    pub score: f64,
}

/// A spam classifier (Akismet, a local model, a blocklist service).
#[async_trait]
pub trait SpamClassifier: Send + Sync + fmt::Debug {
    /// Classifies one submission.
    ///
    /// # Errors
    /// Any failure (timeout, network, bad key). The pipeline never reads a
    /// failure as ham: it applies [`SpamCheck::on_unsure`] with a reason that
    /// says the check failed.
    async fn classify(&self, submission: &Submission) -> Result<SpamScore, BoxError>;
}

/// What to do with a submission the spam check objects to. Never "publish":
/// a failed or unsure check must not pass as ham.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpamAction {
    /// Hold for review (the default).
    #[default]
    Hold,
    /// Reject (saved for the record, never public).
    Reject,
}

/// The spam check of a moderator: a classifier and the policy for its answers.
#[derive(Clone)]
pub struct SpamCheck {
    /// The classifier.
    pub classifier: Arc<dyn SpamClassifier>,
    /// What a spam verdict does (default: hold).
    pub on_spam: SpamAction,
    /// What an unsure verdict, or a failed check, does (default: hold).
    pub on_unsure: SpamAction,
}

impl SpamCheck {
    /// A check with the default policy: spam, unsure and failures are held.
    #[must_use]
    pub fn new(classifier: Arc<dyn SpamClassifier>) -> Self {
        Self {
            classifier,
            on_spam: SpamAction::Hold,
            on_unsure: SpamAction::Hold,
        }
    }

    /// Sets what a spam verdict does.
    #[must_use]
    pub fn on_spam(mut self, action: SpamAction) -> Self {
        self.on_spam = action;
        self
    }

    /// Sets what an unsure verdict or a failure does.
    #[must_use]
    pub fn on_unsure(mut self, action: SpamAction) -> Self {
        self.on_unsure = action;
        self
    }
}

impl fmt::Debug for SpamCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpamCheck")
            .field("classifier", &self.classifier)
            .field("on_spam", &self.on_spam)
            .field("on_unsure", &self.on_unsure)
            .finish()
    }
}

//! `ReviewQueue`: claims, actions, bulk actions and stale auto-handling
//! over a [`ReviewStore`], with subject handlers, observers and messages to
//! authors.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::Instrument;
use uuid::Uuid;

use crate::actor::{Actor, AuthorKey};
use crate::clock::{Clock, SystemClock};
use crate::decision::{Reason, Verdict};
use crate::error::ModerationError;
use crate::ids::{ItemId, UserId};
use crate::notify::{LogNotifier, Notification, Notifier, Templates};
use crate::queue::handler::{ActionContext, ReviewObserver, SubjectDecider, SubjectHandler};
use crate::queue::held::HeldItemStore;
use crate::queue::item::{
    NewReview, ReviewAction, ReviewEvent, ReviewHistoryEntry, ReviewId, ReviewItem,
};
use crate::queue::store::{
    Claim, ClaimCheck, Opened, ReviewFilter, ReviewPage, ReviewPageRequest, ReviewStore,
    ReviewTransition,
};
use crate::queue::subject::{ReviewSubject, SubjectType};

/// The name of the author message's subject template.
pub const REVIEW_SUBJECT_TEMPLATE: &str = "review_author_subject.txt";
/// The name of the author message's body template.
pub const REVIEW_BODY_TEMPLATE: &str = "review_author_body.txt";
/// How long a claim lasts unless configured: 30 minutes.
pub const DEFAULT_CLAIM_LEASE_SECS: i64 = 30 * 60;
/// The age after which pending items auto-handle unless configured: 60 days.
pub const DEFAULT_STALE_DAYS: i64 = 60;
/// Transitions per transaction in bulk actions and the stale job.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// Whether moderators must claim an item before acting on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimPolicy {
    /// Claims are not used; the version check alone settles races.
    Off,
    /// Anyone may act, except on an item someone else holds a live claim on.
    #[default]
    Optional,
    /// Only the holder of a live claim may act.
    Required,
}

impl ClaimPolicy {
    /// The check every action under this policy makes on the item it acts
    /// on.
    ///
    /// ```
    /// use moderation_core::{ClaimCheck, ClaimPolicy};
    /// assert_eq!(ClaimPolicy::Required.check(), ClaimCheck::HeldByActor);
    /// assert_eq!(ClaimPolicy::Optional.check(), ClaimCheck::NotHeldByOther);
    /// ```
    #[must_use]
    pub fn check(self) -> ClaimCheck {
        match self {
            Self::Off => ClaimCheck::Off,
            Self::Optional => ClaimCheck::NotHeldByOther,
            Self::Required => ClaimCheck::HeldByActor,
        }
    }
}

/// What the stale job does to pending items older than `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalePolicy {
    /// The age at which a pending item is stale (default 60 days).
    pub after: Duration,
    /// The action for flagged content ([`SubjectType::Content`]); default ignore.
    pub flags: ReviewAction,
    /// The action for everything else (queued posts, changes, users);
    /// default reject.
    pub others: ReviewAction,
}

impl Default for StalePolicy {
    fn default() -> Self {
        Self {
            after: Duration::days(DEFAULT_STALE_DAYS),
            flags: ReviewAction::Ignore,
            others: ReviewAction::Reject,
        }
    }
}

/// A callback naming where messages to an author go (e-mail addresses,
/// user ids for an inbox). An empty list sends nothing.
pub type AuthorRecipientsFn = dyn Fn(&AuthorKey) -> Vec<String> + Send + Sync;

/// One moderator action, built step by step.
///
/// ```
/// use moderation_core::{ReviewAction, ReviewDecision, ReviewId};
/// let decision = ReviewDecision::new(ReviewId(7), 1, ReviewAction::Reject)
///     .reason("Off topic")
///     .message("Please keep comments on the article's subject.");
/// assert_eq!(decision.reason.as_deref(), Some("Off topic"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// The item.
    pub review: ReviewId,
    /// The version the moderator saw.
    pub expected_version: i64,
    /// What to do.
    pub action: ReviewAction,
    /// Why (kept in the history and the moderation log).
    pub reason: Option<String>,
    /// A message to the author, sent through the [`Notifier`].
    pub message: Option<String>,
    /// The moderator's IP address.
    pub ip: Option<IpAddr>,
}

impl ReviewDecision {
    /// `action` on `review` as seen at `expected_version`.
    #[must_use]
    pub fn new(review: ReviewId, expected_version: i64, action: ReviewAction) -> Self {
        Self {
            review,
            expected_version,
            action,
            reason: None,
            message: None,
            ip: None,
        }
    }

    /// Sets the reason.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the message to the author.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the moderator's IP address.
    #[must_use]
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }
}

/// What a bulk action did.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    /// The id grouping every step of this bulk action in history and log.
    pub bulk: Uuid,
    /// The items whose action stands.
    pub applied: Vec<ReviewItem>,
    /// Items whose subject handler failed: reverted, with the error.
    pub reverted: Vec<(ReviewId, ModerationError)>,
}

/// What the stale job did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleReport {
    /// Items ignored (stale flags).
    pub ignored: u64,
    /// Items rejected (stale queued posts and changes).
    pub rejected: u64,
    /// Items whose handler failed and were put back.
    pub reverted: u64,
}

/// Builds a [`ReviewQueue`].
pub struct ReviewQueueBuilder {
    store: Arc<dyn ReviewStore>,
    clock: Arc<dyn Clock>,
    claims: ClaimPolicy,
    lease: Duration,
    stale: StalePolicy,
    batch_size: usize,
    notifier: Arc<dyn Notifier>,
    author_recipients: Option<Arc<AuthorRecipientsFn>>,
    templates: Templates,
    handlers: HashMap<SubjectType, Arc<dyn SubjectHandler>>,
    observers: Vec<Arc<dyn ReviewObserver>>,
    held: Option<Arc<dyn HeldItemStore>>,
}

impl std::fmt::Debug for ReviewQueueBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewQueueBuilder")
            .field("claims", &self.claims)
            .field("lease", &self.lease)
            .field("stale", &self.stale)
            .finish_non_exhaustive()
    }
}

impl ReviewQueueBuilder {
    /// Sets the clock (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the claim policy and the lease a claim lasts (default:
    /// [`ClaimPolicy::Optional`], 30 minutes).
    #[must_use]
    pub fn claims(mut self, policy: ClaimPolicy, lease: Duration) -> Self {
        self.claims = policy;
        self.lease = lease;
        self
    }

    /// Sets the stale auto-handling (default: after 60 days, ignore flags,
    /// reject the rest).
    #[must_use]
    pub fn stale(mut self, policy: StalePolicy) -> Self {
        self.stale = policy;
        self
    }

    /// Sets how many transitions one transaction carries in bulk actions
    /// (default [`DEFAULT_BATCH_SIZE`], at least 1).
    #[must_use]
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// Sets the notifier that carries messages to authors (default: [`LogNotifier`]).
    #[must_use]
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Sets where messages to an author go. Without it, messages are kept
    /// in the history but not sent.
    #[must_use]
    pub fn author_recipients(
        mut self,
        recipients: impl Fn(&AuthorKey) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.author_recipients = Some(Arc::new(recipients));
        self
    }

    /// Registers the handler for one subject type (replacing any earlier one).
    #[must_use]
    pub fn handler(mut self, subject: SubjectType, handler: Arc<dyn SubjectHandler>) -> Self {
        self.handlers.insert(subject, handler);
        self
    }

    /// Keeps the queue in `store`, which keeps the held submissions too:
    /// it replaces the store the builder was given, and a decision on a
    /// held submission changes the submission in the transaction of the
    /// decision (approve publishes it, reject and delete remove it), so no
    /// [`SubmissionHandler`](crate::SubmissionHandler) is needed for them.
    #[must_use]
    pub fn held_items(mut self, store: Arc<dyn HeldItemStore>) -> Self {
        self.store = store.clone();
        self.held = Some(store);
        self
    }

    /// Adds an observer.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn ReviewObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// The queue.
    #[must_use]
    pub fn build(self) -> ReviewQueue {
        ReviewQueue {
            store: self.store,
            clock: self.clock,
            claims: self.claims,
            lease: self.lease,
            stale: self.stale,
            batch_size: self.batch_size,
            notifier: self.notifier,
            author_recipients: self.author_recipients,
            templates: self.templates,
            handlers: self.handlers,
            observers: self.observers,
            held: self.held,
        }
    }
}

/// The review queue: one place for everything that needs a human.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use chrono::Utc;
/// use moderation_core::{
///     Actor, ItemId, Kind, MemoryReviewStore, NewReview, ReviewAction, ReviewQueue,
///     ReviewReason, ReviewStatus, ReviewSubject, UserId,
/// };
///
/// let queue = ReviewQueue::builder(Arc::new(MemoryReviewStore::new())).build();
/// let opened = queue
///     .open(NewReview {
///         subject: ReviewSubject::Submission(ItemId(1)),
///         kind: Kind::new("blog.comment")?,
///         author: None,
///         reasons: vec![ReviewReason::new("first_timer", "First comment", 1)],
///         priority: 0,
///         created_at: Utc::now(),
///     })
///     .await?;
/// let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);
/// let item = opened.item;
/// let approved = queue
///     .decide(item.id, item.version, ReviewAction::Approve, &moderator, Some("Fine".into()))
///     .await?;
/// assert_eq!(approved.status, ReviewStatus::Approved);
/// assert_eq!(queue.history(approved.id).await?.len(), 2); // open, approve
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
pub struct ReviewQueue {
    store: Arc<dyn ReviewStore>,
    clock: Arc<dyn Clock>,
    claims: ClaimPolicy,
    lease: Duration,
    stale: StalePolicy,
    batch_size: usize,
    notifier: Arc<dyn Notifier>,
    author_recipients: Option<Arc<AuthorRecipientsFn>>,
    templates: Templates,
    handlers: HashMap<SubjectType, Arc<dyn SubjectHandler>>,
    observers: Vec<Arc<dyn ReviewObserver>>,
    /// Set by [`ReviewQueueBuilder::held_items`]: decisions go through it.
    held: Option<Arc<dyn HeldItemStore>>,
}

impl std::fmt::Debug for ReviewQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewQueue")
            .field("store", &self.store)
            .field("claims", &self.claims)
            .field("lease", &self.lease)
            .field("stale", &self.stale)
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ReviewQueue {
    /// A builder over `store`.
    #[must_use]
    pub fn builder(store: Arc<dyn ReviewStore>) -> ReviewQueueBuilder {
        let templates = Templates::new();
        for (name, source) in [
            (
                REVIEW_SUBJECT_TEMPLATE,
                include_str!("../../templates/review_author_subject.txt"),
            ),
            (
                REVIEW_BODY_TEMPLATE,
                include_str!("../../templates/review_author_body.txt"),
            ),
        ] {
            // The shipped templates are checked by this crate's tests.
            if let Err(error) = templates.set(name, source) {
                tracing::error!(%error, name, "shipped review template does not parse");
            }
        }
        ReviewQueueBuilder {
            store,
            clock: Arc::new(SystemClock),
            claims: ClaimPolicy::default(),
            lease: Duration::seconds(DEFAULT_CLAIM_LEASE_SECS),
            stale: StalePolicy::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            notifier: Arc::new(LogNotifier),
            author_recipients: None,
            templates,
            handlers: HashMap::new(),
            observers: Vec::new(),
            held: None,
        }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ReviewStore> {
        &self.store
    }

    /// The templates of messages to authors, to override at run time.
    #[must_use]
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The claim policy.
    #[must_use]
    pub fn claim_policy(&self) -> ClaimPolicy {
        self.claims
    }

    /// Opens a review item for a subject, or merges the reasons into its
    /// pending one (see [`ReviewStore::open`]).
    ///
    /// # Errors
    /// The store's error.
    pub async fn open(&self, review: NewReview) -> Result<Opened, ModerationError> {
        let span = tracing::info_span!("review.open", subject = %review.subject);
        self.store.open(review).instrument(span).await
    }

    /// Reads one item.
    ///
    /// # Errors
    /// [`ModerationError::ReviewNotFound`]; the store's error.
    pub async fn get(&self, review: ReviewId) -> Result<ReviewItem, ModerationError> {
        let span = tracing::debug_span!("review.get", %review);
        self.store
            .review(review)
            .instrument(span)
            .await?
            .ok_or(ModerationError::ReviewNotFound { review })
    }

    /// The newest item for a subject.
    ///
    /// # Errors
    /// The store's error.
    pub async fn for_subject(
        &self,
        subject: &ReviewSubject,
    ) -> Result<Option<ReviewItem>, ModerationError> {
        let span = tracing::debug_span!("review.for_subject", %subject);
        self.store
            .review_for_subject(subject)
            .instrument(span)
            .await
    }

    /// One keyset page of items.
    ///
    /// # Errors
    /// The store's error.
    pub async fn list(
        &self,
        filter: &ReviewFilter,
        page: &ReviewPageRequest,
    ) -> Result<ReviewPage, ModerationError> {
        let span = tracing::info_span!("review.list", status = ?filter.status);
        self.store.list(filter, page).instrument(span).await
    }

    /// The history of one item, oldest first.
    ///
    /// # Errors
    /// The store's error.
    pub async fn history(
        &self,
        review: ReviewId,
    ) -> Result<Vec<ReviewHistoryEntry>, ModerationError> {
        let span = tracing::debug_span!("review.history", %review);
        self.store.history(review).instrument(span).await
    }

    /// Claims a pending item for the configured lease (or renews one's own claim).
    ///
    /// # Errors
    /// [`ModerationError::AnonymousActor`]; [`ModerationError::Claimed`] while
    /// someone else's lease runs; [`ModerationError::NotPending`];
    /// [`ModerationError::ReviewNotFound`].
    pub async fn claim(&self, review: ReviewId, by: &Actor) -> Result<ReviewItem, ModerationError> {
        let span = tracing::info_span!("review.claim", %review);
        async {
            let by = signed_in(by, "claim")?;
            let at = self.clock.now();
            self.store
                .claim(Claim {
                    review,
                    by,
                    at,
                    until: at + self.lease,
                })
                .await
        }
        .instrument(span)
        .await
    }

    /// Releases one's claim.
    ///
    /// # Errors
    /// [`ModerationError::AnonymousActor`]; [`ModerationError::Claimed`] when
    /// someone else holds it; [`ModerationError::ReviewNotFound`].
    pub async fn release(
        &self,
        review: ReviewId,
        by: &Actor,
    ) -> Result<ReviewItem, ModerationError> {
        let span = tracing::info_span!("review.release", %review);
        async {
            let by = signed_in(by, "release")?;
            self.store.release(review, &by, self.clock.now()).await
        }
        .instrument(span)
        .await
    }

    /// Takes `action` on `review` as seen at `expected_version`, with an
    /// optional reason: the short form of [`ReviewQueue::act`].
    ///
    /// # Errors
    /// As [`ReviewQueue::act`].
    pub async fn decide(
        &self,
        review: ReviewId,
        expected_version: i64,
        action: ReviewAction,
        by: &Actor,
        reason: Option<String>,
    ) -> Result<ReviewItem, ModerationError> {
        let mut decision = ReviewDecision::new(review, expected_version, action);
        decision.reason = reason;
        self.act(by, decision).await
    }

    /// Takes one action: the version- and claim-checked transition commits
    /// (with its history step), then the subject's handler runs, then
    /// observers, then the message to the author. See [`SubjectHandler`]
    /// for what happens when the handler fails.
    ///
    /// # Errors
    /// [`ModerationError::AnonymousActor`]; [`ModerationError::ReviewConflict`]
    /// for a stale version; [`ModerationError::TransitionRefused`];
    /// [`ModerationError::ClaimRequired`] / [`ModerationError::Claimed`] under
    /// the claim policy; [`ModerationError::ReviewNotFound`]; the handler's
    /// error (after the revert).
    pub async fn act(
        &self,
        by: &Actor,
        decision: ReviewDecision,
    ) -> Result<ReviewItem, ModerationError> {
        let span = tracing::info_span!(
            "review.act",
            review = %decision.review,
            action = %decision.action
        );
        async {
            let actor = signed_in(by, decision.action.as_str())?;
            let at = self.clock.now();
            let context = ActionContext {
                actor: by.clone(),
                action: decision.action,
                reason: decision.reason.clone(),
                message: decision.message.clone(),
                ip: decision.ip,
                bulk: None,
                at,
            };
            let transition = self.transition(&decision, Some(actor), &context);
            let item = self.commit_one(transition, &context).await?;
            self.after_commit(item, &context).await
        }
        .instrument(span)
        .await
    }

    /// Takes one action on many items: one transaction per batch (see
    /// [`ReviewQueueBuilder::batch_size`]), all steps under one bulk id;
    /// then handlers, observers and messages per item.
    ///
    /// A refused item (stale version, claim, status) fails its whole batch,
    /// which writes nothing, and the error is returned at once; batches
    /// committed before it stay committed (each is a complete, logged step).
    ///
    /// # Errors
    /// As [`ReviewQueue::act`], for the first failing batch.
    pub async fn bulk(
        &self,
        by: &Actor,
        action: ReviewAction,
        targets: &[(ReviewId, i64)],
        reason: Option<String>,
    ) -> Result<BulkOutcome, ModerationError> {
        let span = tracing::info_span!("review.bulk", %action, count = targets.len());
        async {
            let actor = signed_in(by, action.as_str())?;
            let bulk = Uuid::new_v4();
            let mut outcome = BulkOutcome {
                bulk,
                ..BulkOutcome::default()
            };
            for batch in targets.chunks(self.batch_size) {
                let at = self.clock.now();
                let context = ActionContext {
                    actor: by.clone(),
                    action,
                    reason: reason.clone(),
                    message: None,
                    ip: None,
                    bulk: Some(bulk),
                    at,
                };
                let transitions = batch
                    .iter()
                    .map(|&(review, version)| {
                        let mut decision = ReviewDecision::new(review, version, action);
                        decision.reason.clone_from(&reason);
                        self.transition(&decision, Some(actor.clone()), &context)
                    })
                    .collect();
                for item in self.commit(transitions, &context).await? {
                    let id = item.id;
                    match self.after_commit(item, &context).await {
                        Ok(item) => outcome.applied.push(item),
                        Err(error) => outcome.reverted.push((id, error)),
                    }
                }
            }
            Ok(outcome)
        }
        .instrument(span)
        .await
    }

    /// Auto-handles pending items older than the stale policy's age, acting
    /// as `by` (the account the operator's job runs as): flags are ignored,
    /// everything else rejected (by default). Works in batches, one
    /// transaction each, oldest first; never loads the whole queue.
    ///
    /// # Errors
    /// [`ModerationError::AnonymousActor`]; the store's error. An item that
    /// changed while the job ran is skipped, not an error.
    pub async fn handle_stale(&self, by: &Actor) -> Result<StaleReport, ModerationError> {
        let span = tracing::info_span!("review.stale");
        async {
            let actor = signed_in(by, "stale handling")?;
            let before = self.clock.now() - self.stale.after;
            let mut report = StaleReport::default();
            let limit = u32::try_from(self.batch_size).unwrap_or(u32::MAX);
            let mut after = None;
            loop {
                let items = self.store.stale(before, after, limit).await?;
                let Some(last) = items.last() else {
                    break;
                };
                after = Some(crate::queue::store::ReviewCursor::after(last));
                for item in items {
                    let action = if item.subject.subject_type() == SubjectType::Content {
                        self.stale.flags
                    } else {
                        self.stale.others
                    };
                    let at = self.clock.now();
                    let context = ActionContext {
                        actor: by.clone(),
                        action,
                        reason: Some(format!(
                            "Stale: pending for more than {} days",
                            self.stale.after.num_days()
                        )),
                        message: None,
                        ip: None,
                        bulk: None,
                        at,
                    };
                    let decision = ReviewDecision {
                        reason: context.reason.clone(),
                        ..ReviewDecision::new(item.id, item.version, action)
                    };
                    let mut transition = self.transition(&decision, Some(actor.clone()), &context);
                    // The job acts for the whole staff: no claim stops it.
                    transition.claim = ClaimCheck::Off;
                    let committed = match self.commit_one(transition, &context).await {
                        Ok(committed) => committed,
                        Err(error) if error.is_conflict() => continue,
                        Err(error) => return Err(error),
                    };
                    match self.after_commit(committed, &context).await {
                        Ok(_) if action == ReviewAction::Ignore => report.ignored += 1,
                        Ok(_) => report.rejected += 1,
                        Err(_) => report.reverted += 1,
                    }
                }
            }
            Ok(report)
        }
        .instrument(span)
        .await
    }

    fn transition(
        &self,
        decision: &ReviewDecision,
        actor: Option<UserId>,
        context: &ActionContext,
    ) -> ReviewTransition {
        ReviewTransition {
            review: decision.review,
            expected_version: decision.expected_version,
            event: ReviewEvent::Act(decision.action),
            to: decision.action.target(),
            actor,
            claim: self.claims.check(),
            reason: decision.reason.clone(),
            message: decision.message.clone(),
            ip: decision.ip,
            bulk: context.bulk,
            at: context.at,
        }
    }

    /// Commits one transition; see [`ReviewQueue::commit`].
    async fn commit_one(
        &self,
        transition: ReviewTransition,
        context: &ActionContext,
    ) -> Result<ReviewItem, ModerationError> {
        if self.held.is_none() && !self.has_deciders() {
            return self.store.transition(transition).await;
        }
        self.commit(vec![transition], context)
            .await?
            .pop()
            .ok_or_else(|| ModerationError::store("the store committed no transition"))
    }

    /// True when a registered handler commits its decisions itself.
    fn has_deciders(&self) -> bool {
        self.handlers
            .values()
            .any(|handler| handler.decider().is_some())
    }

    /// The decider of `subject`'s type, if its handler has one.
    fn decider(&self, subject: SubjectType) -> Option<&dyn SubjectDecider> {
        self.handlers.get(&subject)?.decider()
    }

    /// Commits transitions, in order. Those on subjects whose handler is a
    /// [`SubjectDecider`] commit through it, with their effect, one
    /// transaction per subject type; the rest commit in one transaction,
    /// through the held-item store when there is one, so decisions on held
    /// submissions change them in the same transaction. Only with a decider
    /// registered are the items read first, in one query, to learn their
    /// subjects.
    async fn commit(
        &self,
        transitions: Vec<ReviewTransition>,
        context: &ActionContext,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        if !self.has_deciders() {
            return self.commit_rest(transitions).await;
        }
        let ids: Vec<ReviewId> = transitions.iter().map(|t| t.review).collect();
        let mut items: HashMap<ReviewId, ReviewItem> = self
            .store
            .reviews(&ids)
            .await?
            .into_iter()
            .map(|item| (item.id, item))
            .collect();
        let mut rest = Route::default();
        let mut decided: HashMap<SubjectType, Route> = HashMap::new();
        for (position, transition) in transitions.into_iter().enumerate() {
            let item = items
                .remove(&transition.review)
                .ok_or(ModerationError::ReviewNotFound {
                    review: transition.review,
                })?;
            let subject = item.subject.subject_type();
            let route = if self.decider(subject).is_some() {
                decided.entry(subject).or_default()
            } else {
                &mut rest
            };
            route.push(position, item, transition);
        }
        let mut committed: Vec<(usize, ReviewItem)> = Vec::new();
        if !rest.transitions.is_empty() {
            let items = self.commit_rest(rest.transitions).await?;
            committed.extend(rest.positions.into_iter().zip(items));
        }
        for (subject, route) in decided {
            let Some(decider) = self.decider(subject) else {
                continue;
            };
            let items = decider
                .decide(&route.items, route.transitions, context)
                .await?;
            committed.extend(route.positions.into_iter().zip(items));
        }
        committed.sort_unstable_by_key(|(position, _)| *position);
        Ok(committed.into_iter().map(|(_, item)| item).collect())
    }

    /// Commits transitions in one transaction: through the held-item store
    /// when there is one, so decisions on held submissions change them in
    /// the same transaction.
    async fn commit_rest(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        match &self.held {
            Some(held) => Ok(held
                .decide_held(transitions)
                .await?
                .into_iter()
                .map(|decided| decided.review)
                .collect()),
            None => self.store.transition_batch(transitions).await,
        }
    }

    /// Runs the handler (reverting on failure), then observers and the
    /// message to the author. A held submission's effect was committed
    /// with the transition when the queue has a held-item store, and a
    /// decider's always.
    async fn after_commit(
        &self,
        item: ReviewItem,
        context: &ActionContext,
    ) -> Result<ReviewItem, ModerationError> {
        let subject = item.subject.subject_type();
        let committed_with_store = (self.held.is_some() && subject == SubjectType::Submission)
            || self.decider(subject).is_some();
        if !committed_with_store
            && let Some(handler) = self.handlers.get(&item.subject.subject_type())
            && let Err(error) = handler.apply(&item, context).await
        {
            self.revert(&item, context, &error).await;
            return Err(error);
        }
        for observer in &self.observers {
            if let Err(error) = observer.after_action(&item, context).await {
                tracing::warn!(%error, review = %item.id, "review observer failed; the action stands");
            }
        }
        self.message_author(&item, context).await;
        Ok(item)
    }

    /// Moves `item` back to the status before `context.action`, recorded as
    /// a `revert` step.
    async fn revert(&self, item: &ReviewItem, context: &ActionContext, cause: &ModerationError) {
        let Some(previous) = self.store.history(item.id).await.ok().and_then(|history| {
            // The step this action wrote: claims may have been recorded since.
            history
                .iter()
                .rev()
                .find(|step| {
                    step.event == ReviewEvent::Act(context.action) && step.to_status == item.status
                })
                .and_then(|step| step.from_status)
        }) else {
            tracing::error!(review = %item.id, %cause, "subject handler failed and the previous status is unknown; the item stays as the action left it");
            return;
        };
        let transition = ReviewTransition {
            review: item.id,
            expected_version: item.version,
            event: ReviewEvent::Revert,
            to: previous,
            actor: context.actor.user.clone(),
            claim: ClaimCheck::Off,
            reason: Some(format!("{} failed: {cause}", context.action)),
            message: None,
            ip: context.ip,
            bulk: context.bulk,
            at: self.clock.now(),
        };
        if let Err(error) = self.store.transition(transition).await {
            tracing::error!(review = %item.id, %cause, %error, "subject handler failed and the revert failed too; check the item by hand");
        } else {
            tracing::warn!(review = %item.id, %cause, "subject handler failed; the action was reverted");
        }
    }

    async fn message_author(&self, item: &ReviewItem, context: &ActionContext) {
        let (Some(message), Some(author), Some(recipients)) =
            (&context.message, &item.author, &self.author_recipients)
        else {
            return;
        };
        let recipients = recipients(author);
        if recipients.is_empty() {
            return;
        }
        let template_context = json!({
            "kind": item.kind,
            "subject": item.subject.key(),
            "action": context.action,
            "reason": context.reason,
            "message": message,
        });
        let rendered = self
            .templates
            .render(REVIEW_SUBJECT_TEMPLATE, &template_context)
            .and_then(|subject| {
                Ok((
                    subject,
                    self.templates
                        .render(REVIEW_BODY_TEMPLATE, &template_context)?,
                ))
            });
        let (subject, body) = match rendered {
            Ok(parts) => parts,
            Err(error) => {
                tracing::error!(%error, review = %item.id, "message to the author not sent");
                return;
            }
        };
        let notification = Notification {
            recipients,
            kind: item.kind.clone(),
            // Review messages carry the review item's id here.
            item: ItemId(item.id.0),
            object: item.subject.target(&item.kind),
            verdict: verdict_of(context.action),
            reasons: context
                .reason
                .iter()
                .map(|text| Reason::new(ReviewEvent::Act(context.action).verb(), text.clone()))
                .collect(),
            subject: subject.trim().to_owned(),
            body,
        };
        if let Err(error) = self.notifier.notify(&notification).await {
            tracing::warn!(%error, review = %item.id, "message to the author failed; the action stands");
        }
    }
}

/// The signed-in user behind `actor`, or `AnonymousActor`.
/// Transitions bound for one committer, with the items they act on and
/// their positions in the caller's order.
#[derive(Default)]
struct Route {
    positions: Vec<usize>,
    items: Vec<ReviewItem>,
    transitions: Vec<ReviewTransition>,
}

impl Route {
    fn push(&mut self, position: usize, item: ReviewItem, transition: ReviewTransition) {
        self.positions.push(position);
        self.items.push(item);
        self.transitions.push(transition);
    }
}

fn signed_in(actor: &Actor, action: &'static str) -> Result<UserId, ModerationError> {
    actor
        .user
        .clone()
        .ok_or(ModerationError::AnonymousActor { action })
}

/// What the author sees the action as.
fn verdict_of(action: ReviewAction) -> Verdict {
    match action {
        ReviewAction::Approve | ReviewAction::Restore | ReviewAction::Ignore => Verdict::Publish,
        ReviewAction::Reject | ReviewAction::Delete => Verdict::Reject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_review_templates_render() -> Result<(), ModerationError> {
        let queue = ReviewQueue::builder(Arc::new(crate::MemoryReviewStore::new())).build();
        let context = json!({
            "kind": "blog.comment", "subject": "submission:1", "action": "reject",
            "reason": "Off topic", "message": "Please stay on topic."
        });
        let subject = queue
            .templates()
            .render(REVIEW_SUBJECT_TEMPLATE, &context)?;
        let body = queue.templates().render(REVIEW_BODY_TEMPLATE, &context)?;
        assert_eq!(subject.trim(), "Your blog.comment was not accepted");
        assert!(body.contains("Off topic") && body.contains("Please stay on topic."));
        Ok(())
    }
}

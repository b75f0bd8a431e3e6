//! The registry of moderated kinds (SPEC A3).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::ModerationError;
use crate::ids::Kind;
use crate::moderated::Moderated;
use crate::moderator::Moderator;
use crate::options::CommentOptions;
use crate::pipeline::{HookRule, Pipeline};

/// One kind's moderation, type-erased so kinds of different model types
/// live in one [`Registry`]. The options and rules are read once, here.
#[derive(Debug, Clone)]
pub struct Registration {
    kind: Kind,
    options: CommentOptions,
    pipeline: Pipeline,
}

impl Registration {
    /// Reads `moderator`'s options and rules for the model type `T`.
    ///
    /// # Errors
    /// [`ModerationError::InvalidKind`] when `T::KIND` is not a valid kind name.
    pub fn of<T, M>(moderator: M) -> Result<Self, ModerationError>
    where
        T: Moderated + 'static,
        M: Moderator<T>,
    {
        let kind = Kind::new(T::KIND)?;
        let options = moderator.options();
        let moderator = Arc::new(moderator);
        let mut extra = moderator.rules();
        extra.push(Arc::new(HookRule::<T, M>::allow(Arc::clone(&moderator))));
        extra.push(Arc::new(HookRule::<T, M>::moderate(moderator)));
        let pipeline = Pipeline::from_options(&options, extra);
        Ok(Self {
            kind,
            options,
            pipeline,
        })
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The options read at registration.
    #[must_use]
    pub fn options(&self) -> &CommentOptions {
        &self.options
    }

    /// The ordered rules.
    #[must_use]
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }
}

/// Which kinds are moderated, and how.
///
/// ```
/// use moderation_core::{ModerationError, Moderated, ModerateFirstTimers, ObjectId, Registry};
/// #[derive(serde::Serialize)]
/// struct Comment { id: i64 }
/// impl Moderated for Comment {
///     const KIND: &'static str = "blog.comment";
///     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
/// }
/// let registry = Registry::new();
/// registry.register::<Comment, _>(ModerateFirstTimers)?;
/// assert!(matches!(
///     registry.register::<Comment, _>(ModerateFirstTimers),
///     Err(ModerationError::AlreadyModerated { .. })
/// ));
/// # Ok::<(), ModerationError>(())
/// ```
#[derive(Debug, Default)]
pub struct Registry {
    kinds: RwLock<HashMap<Kind, Arc<Registration>>>,
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `moderator` for the model type `T`.
    ///
    /// # Errors
    /// [`ModerationError::AlreadyModerated`] when the kind has a moderator;
    /// [`ModerationError::InvalidKind`] for a bad kind name.
    pub fn register<T, M>(&self, moderator: M) -> Result<(), ModerationError>
    where
        T: Moderated + 'static,
        M: Moderator<T>,
    {
        self.register_all(vec![Registration::of::<T, M>(moderator)?])
    }

    /// Registers several kinds at once: either all of them or none (Django
    /// keeps the earlier ones when a later one fails).
    ///
    /// # Errors
    /// [`ModerationError::AlreadyModerated`] when any kind is registered
    /// already or appears twice in `registrations`; nothing is registered then.
    pub fn register_all(&self, registrations: Vec<Registration>) -> Result<(), ModerationError> {
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        for (n, registration) in registrations.iter().enumerate() {
            let repeated = registrations
                .iter()
                .take(n)
                .any(|earlier| earlier.kind == registration.kind);
            if repeated || kinds.contains_key(&registration.kind) {
                return Err(ModerationError::AlreadyModerated {
                    kind: registration.kind.clone(),
                });
            }
        }
        for registration in registrations {
            kinds.insert(registration.kind.clone(), Arc::new(registration));
        }
        Ok(())
    }

    /// Removes a kind's moderator.
    ///
    /// # Errors
    /// [`ModerationError::NotModerated`] when the kind has none.
    pub fn unregister(&self, kind: &Kind) -> Result<(), ModerationError> {
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        kinds
            .remove(kind)
            .map(|_| ())
            .ok_or_else(|| ModerationError::NotModerated { kind: kind.clone() })
    }

    /// The registration of a kind, if any.
    #[must_use]
    pub fn get(&self, kind: &Kind) -> Option<Arc<Registration>> {
        self.kinds
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kind)
            .cloned()
    }

    /// True when the kind is registered.
    #[must_use]
    pub fn is_registered(&self, kind: &Kind) -> bool {
        self.get(kind).is_some()
    }
}

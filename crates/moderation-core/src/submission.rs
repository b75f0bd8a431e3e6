//! What arrives for moderation: who, what, attached to what, from where.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::ModerationError;
use crate::ids::{Kind, ObjectRef};
use crate::moderated::Moderated;

/// Facts about the request that carried a submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// The client's IP address, as resolved by the application.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `Referer` header.
    pub referrer: Option<String>,
}

/// The object a submission is attached to (the blog entry of a comment), in
/// its serde form. Rules read its fields by name, as Django reads attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParentObject {
    /// Which object.
    pub object: ObjectRef,
    /// Its serde form.
    pub payload: serde_json::Value,
}

impl ParentObject {
    /// Captures a model object as a parent.
    ///
    /// # Errors
    /// [`ModerationError::InvalidKind`] for a bad kind name,
    /// [`ModerationError::Serde`] when the object does not serialise.
    pub fn of<P: Moderated>(parent: &P) -> Result<Self, ModerationError> {
        Ok(Self {
            object: ObjectRef::new(Kind::new(P::KIND)?, parent.object_id()),
            payload: serde_json::to_value(parent)?,
        })
    }

    /// The value of one field of the parent's serde form.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.payload.get(name)
    }
}

/// One submission: the actor, the object, its text, the parent and the request.
///
/// ```
/// use moderation_core::{Actor, Moderated, ObjectId, Submission, UserId};
/// #[derive(serde::Serialize)]
/// struct Comment { id: i64, body: String }
/// impl Moderated for Comment {
///     const KIND: &'static str = "blog.comment";
///     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
///     fn text(&self) -> std::borrow::Cow<'_, str> { self.body.as_str().into() }
/// }
/// let comment = Comment { id: 1, body: "Nice post".into() };
/// let submission = Submission::new(Actor::user(UserId::from(3_i64)), &comment)?;
/// assert_eq!(submission.text, "Nice post");
/// assert_eq!(submission.object.to_string(), "blog.comment#1");
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Who submits.
    pub actor: Actor,
    /// Which object.
    pub object: ObjectRef,
    /// The object's serde form, stored with the item.
    pub payload: serde_json::Value,
    /// The text content rules read.
    pub text: String,
    /// What it is attached to, if anything.
    pub parent: Option<ParentObject>,
    /// Where it came from.
    pub request: RequestFacts,
}

impl Submission {
    /// A submission of `object` by `actor`, with no parent and no request facts.
    ///
    /// # Errors
    /// [`ModerationError::InvalidKind`] for a bad kind name,
    /// [`ModerationError::Serde`] when the object does not serialise.
    pub fn new<T: Moderated>(actor: Actor, object: &T) -> Result<Self, ModerationError> {
        Ok(Self {
            actor,
            object: ObjectRef::new(Kind::new(T::KIND)?, object.object_id()),
            payload: serde_json::to_value(object)?,
            text: object.text().into_owned(),
            parent: None,
            request: RequestFacts::default(),
        })
    }

    /// Attaches the submission to a parent object.
    ///
    /// # Errors
    /// As [`ParentObject::of`].
    pub fn with_parent<P: Moderated>(mut self, parent: &P) -> Result<Self, ModerationError> {
        self.parent = Some(ParentObject::of(parent)?);
        Ok(self)
    }

    /// Attaches an already captured parent.
    #[must_use]
    pub fn with_parent_object(mut self, parent: ParentObject) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Sets the request facts.
    #[must_use]
    pub fn with_request(mut self, request: RequestFacts) -> Self {
        self.request = request;
        self
    }

    /// The submission's kind.
    #[must_use]
    pub fn kind(&self) -> &Kind {
        &self.object.kind
    }
}

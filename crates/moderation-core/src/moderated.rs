//! The `Moderated` trait: what a user model declares to be moderated.

use std::borrow::Cow;

use serde::Serialize;

use crate::ids::ObjectId;

/// A model type whose objects go through moderation (a comment, a review).
///
/// A model declares a stable kind name, its object id (integer, UUID or
/// string) and a serde form; nothing else is required. [`Moderated::text`]
/// has a default (no text) and is worth overriding: the length limit, the
/// duplicate check and the spam check read it.
///
/// ```
/// use moderation_core::{Moderated, ObjectId};
/// #[derive(serde::Serialize)]
/// struct Comment { id: i64, body: String }
/// impl Moderated for Comment {
///     const KIND: &'static str = "blog.comment";
///     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
///     fn text(&self) -> std::borrow::Cow<'_, str> { self.body.as_str().into() }
/// }
/// ```
pub trait Moderated: Serialize {
    /// The stable kind name, such as `"blog.comment"` (see [`Kind`](crate::Kind)).
    const KIND: &'static str;

    /// This object's id within its kind.
    fn object_id(&self) -> ObjectId;

    /// The text that content rules read. Defaults to none.
    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
}

//! What a review item is about: a held submission, a pending object change,
//! flagged content or a frozen user, each with a stable text key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ModerationError;
use crate::ids::{ItemId, Kind, ObjectId, ObjectRef, UserId};

/// The thing a review item asks a moderator to decide on.
///
/// Each subject has a stable text key ([`ReviewSubject::key`]) that stores
/// index: at most one *pending* review item exists per key, so opening the
/// same subject twice merges into the first item instead of queueing it twice.
///
/// ```
/// use moderation_core::{ItemId, ReviewSubject};
/// let subject = ReviewSubject::Submission(ItemId(42));
/// assert_eq!(subject.key(), "submission:42");
/// assert_eq!(ReviewSubject::from_key("submission:42")?, subject);
///
/// // In JSON the type names the variant and `subject` holds its value.
/// let json = serde_json::to_string(&subject)?;
/// assert_eq!(json, r#"{"type":"submission","subject":42}"#);
/// assert_eq!(serde_json::from_str::<ReviewSubject>(&json)?, subject);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
// Adjacently tagged: an internal tag cannot carry the newtype variants'
// numbers and strings.
#[serde(tag = "type", content = "subject", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReviewSubject {
    /// A held comment-style item of the [`ModerationStore`](crate::ModerationStore).
    Submission(ItemId),
    /// A pending create or edit of a moderated object, at one revision.
    ObjectChange {
        /// The object.
        object: ObjectRef,
        /// The pending revision, as the workflow numbers them.
        revision: i64,
    },
    /// Content that users flagged.
    Content(ObjectRef),
    /// A frozen user, waiting for staff to lift or keep the freeze.
    User(UserId),
}

/// The type of a [`ReviewSubject`], without its identity: what a
/// [`SubjectHandler`](crate::SubjectHandler) is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubjectType {
    /// [`ReviewSubject::Submission`].
    Submission,
    /// [`ReviewSubject::ObjectChange`].
    ObjectChange,
    /// [`ReviewSubject::Content`].
    Content,
    /// [`ReviewSubject::User`].
    User,
}

impl SubjectType {
    /// The stable text that starts every key of this type.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submission => "submission",
            Self::ObjectChange => "object_change",
            Self::Content => "content",
            Self::User => "user",
        }
    }
}

impl fmt::Display for SubjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ReviewSubject {
    /// The subject's type.
    #[must_use]
    pub fn subject_type(&self) -> SubjectType {
        match self {
            Self::Submission(_) => SubjectType::Submission,
            Self::ObjectChange { .. } => SubjectType::ObjectChange,
            Self::Content(_) => SubjectType::Content,
            Self::User(_) => SubjectType::User,
        }
    }

    /// The object the moderation log names as the target of an action on
    /// this subject: the object itself for changes and flagged content; for
    /// a submission, its item id under `kind`; for a user, the user id
    /// under `kind`.
    #[must_use]
    pub fn target(&self, kind: &Kind) -> ObjectRef {
        match self {
            Self::ObjectChange { object, .. } | Self::Content(object) => object.clone(),
            Self::Submission(item) => ObjectRef::new(kind.clone(), item.0),
            Self::User(user) => {
                ObjectRef::new(kind.clone(), ObjectId::Str(user.as_str().to_owned()))
            }
        }
    }

    /// The stable key stores index:
    /// `submission:<item>`, `object_change:<revision>:<kind>:<object key>`,
    /// `content:<kind>:<object key>` or `user:<user id>`.
    ///
    /// Kind names never contain `:`, so everything after the kind is the
    /// object key, whatever characters a string id holds.
    #[must_use]
    pub fn key(&self) -> String {
        let tag = self.subject_type().as_str();
        match self {
            Self::Submission(item) => format!("{tag}:{item}"),
            Self::ObjectChange { object, revision } => {
                format!("{tag}:{revision}:{}:{}", object.kind, object.id.to_key())
            }
            Self::Content(object) => format!("{tag}:{}:{}", object.kind, object.id.to_key()),
            Self::User(user) => format!("{tag}:{user}"),
        }
    }

    /// Parses the form written by [`ReviewSubject::key`].
    ///
    /// # Errors
    /// [`ModerationError::InvalidSubject`] when the key has no known type or
    /// its parts do not parse.
    pub fn from_key(key: &str) -> Result<Self, ModerationError> {
        let invalid = || ModerationError::InvalidSubject {
            key: key.to_owned(),
        };
        let (tag, rest) = key.split_once(':').ok_or_else(invalid)?;
        let object = |text: &str| -> Result<ObjectRef, ModerationError> {
            let (kind, id) = text.split_once(':').ok_or_else(invalid)?;
            let kind = Kind::new(kind).map_err(|_| invalid())?;
            let id = ObjectId::from_key(id).map_err(|_| invalid())?;
            Ok(ObjectRef { kind, id })
        };
        match tag {
            "submission" => rest
                .parse()
                .map(|id| Self::Submission(ItemId(id)))
                .map_err(|_| invalid()),
            "object_change" => {
                let (revision, object_text) = rest.split_once(':').ok_or_else(invalid)?;
                Ok(Self::ObjectChange {
                    revision: revision.parse().map_err(|_| invalid())?,
                    object: object(object_text)?,
                })
            }
            "content" => object(rest).map(Self::Content),
            "user" => UserId::new(rest).map(Self::User).map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for ReviewSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_round_trips_through_its_key() -> Result<(), ModerationError> {
        let kind = Kind::new("wiki.page")?;
        let subjects = [
            ReviewSubject::Submission(ItemId(7)),
            ReviewSubject::ObjectChange {
                object: ObjectRef::new(kind.clone(), ObjectId::string("a:b c")?),
                revision: 3,
            },
            ReviewSubject::Content(ObjectRef::new(kind, 9_i64)),
            ReviewSubject::User(UserId::new("u:1")?),
        ];
        for subject in subjects {
            assert_eq!(ReviewSubject::from_key(&subject.key())?, subject);
        }
        assert!(ReviewSubject::from_key("nothing:1").is_err());
        assert!(ReviewSubject::from_key("submission:x").is_err());
        Ok(())
    }
}

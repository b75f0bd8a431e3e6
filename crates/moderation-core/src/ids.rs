//! Identifiers: model kinds, object ids of any shape, users and stored items.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ModerationError;

/// The most bytes a kind name may have.
pub const MAX_KIND_LEN: usize = 128;
/// The most bytes a string object id or user id may have.
pub const MAX_ID_LEN: usize = 256;

/// A stable name for a moderated model type, such as `"blog.comment"`.
///
/// Kind names are lower-case ASCII letters, digits, `.`, `_` and `-`, at most
/// [`MAX_KIND_LEN`] bytes, and never empty: they end up in database indexes and
/// URLs, so they are checked once, when they are made.
///
/// ```
/// use moderation_core::Kind;
/// let kind = Kind::new("blog.comment")?;
/// assert_eq!(kind.as_str(), "blog.comment");
/// assert!(Kind::new("Blog Comment").is_err());
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kind(String);

impl Kind {
    /// Checks and wraps a kind name.
    ///
    /// # Errors
    /// [`ModerationError::InvalidKind`] when the name is empty, too long or has
    /// a character outside `a-z 0-9 . _ -`.
    pub fn new(name: impl Into<String>) -> Result<Self, ModerationError> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= MAX_KIND_LEN
            && name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if valid {
            Ok(Self(name))
        } else {
            Err(ModerationError::InvalidKind { kind: name })
        }
    }

    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Kind {
    type Error = ModerationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for Kind {
    type Error = ModerationError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Kind> for String {
    fn from(kind: Kind) -> Self {
        kind.0
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a user model's object: an integer, a UUID or a string.
///
/// Its canonical text form (see [`ObjectId::to_key`]) is what stores index:
/// `i:42`, `u:67e55044-10b1-426f-9247-bb680e5fe0c8`, `s:slug-text`. The prefix
/// keeps `42` the integer and `"42"` the string apart.
///
/// ```
/// use moderation_core::ObjectId;
/// let id = ObjectId::from(42_i64);
/// assert_eq!(id.to_key(), "i:42");
/// assert_eq!(ObjectId::from_key("i:42")?, id);
/// assert!(ObjectId::from_key("42").is_err());
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectId {
    /// An integer primary key.
    Int(i64),
    /// A UUID primary key.
    Uuid(Uuid),
    /// Any other key: a slug, a natural key, a composite rendered as text.
    Str(String),
}

impl ObjectId {
    /// A string id, checked for length and control characters.
    ///
    /// # Errors
    /// [`ModerationError::InvalidId`] when empty, longer than [`MAX_ID_LEN`]
    /// bytes or holding a control character.
    pub fn string(value: impl Into<String>) -> Result<Self, ModerationError> {
        let value = value.into();
        check_id_text(&value)?;
        Ok(Self::Str(value))
    }

    /// The canonical, prefixed text form stored in indexes.
    #[must_use]
    pub fn to_key(&self) -> String {
        match self {
            Self::Int(n) => format!("i:{n}"),
            Self::Uuid(u) => format!("u:{}", u.hyphenated()),
            Self::Str(s) => format!("s:{s}"),
        }
    }

    /// Parses the form written by [`ObjectId::to_key`].
    ///
    /// # Errors
    /// [`ModerationError::InvalidId`] when the prefix is missing or the rest does
    /// not parse as that kind of id.
    pub fn from_key(key: &str) -> Result<Self, ModerationError> {
        let invalid = || ModerationError::InvalidId { id: key.to_owned() };
        let (prefix, rest) = key.split_once(':').ok_or_else(invalid)?;
        match prefix {
            "i" => rest.parse().map(Self::Int).map_err(|_| invalid()),
            "u" => Uuid::parse_str(rest).map(Self::Uuid).map_err(|_| invalid()),
            "s" => Self::string(rest),
            _ => Err(invalid()),
        }
    }
}

fn check_id_text(value: &str) -> Result<(), ModerationError> {
    if value.is_empty() || value.len() > MAX_ID_LEN || value.chars().any(char::is_control) {
        return Err(ModerationError::InvalidId {
            id: value.to_owned(),
        });
    }
    Ok(())
}

impl From<i64> for ObjectId {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<Uuid> for ObjectId {
    fn from(value: Uuid) -> Self {
        Self::Uuid(value)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => write!(f, "{n}"),
            Self::Uuid(u) => write!(f, "{u}"),
            Self::Str(s) => f.write_str(s),
        }
    }
}

/// A reference to one object of one kind: `blog.entry` number 7.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The model kind.
    pub kind: Kind,
    /// The object's id within its kind.
    pub id: ObjectId,
}

impl ObjectRef {
    /// A reference from its parts.
    #[must_use]
    pub fn new(kind: Kind, id: impl Into<ObjectId>) -> Self {
        Self {
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.kind, self.id)
    }
}

/// The id of a user of the host application, as text (integers and UUIDs
/// are written in their usual form).
///
/// ```
/// use moderation_core::UserId;
/// assert_eq!(UserId::from(7_i64).as_str(), "7");
/// assert!(UserId::new("").is_err());
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// Checks and wraps a user id.
    ///
    /// # Errors
    /// [`ModerationError::InvalidId`] when empty, longer than [`MAX_ID_LEN`]
    /// bytes or holding a control character.
    pub fn new(value: impl Into<String>) -> Result<Self, ModerationError> {
        let value = value.into();
        check_id_text(&value)?;
        Ok(Self(value))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<i64> for UserId {
    fn from(value: i64) -> Self {
        Self(value.to_string())
    }
}

impl From<Uuid> for UserId {
    fn from(value: Uuid) -> Self {
        Self(value.hyphenated().to_string())
    }
}

impl TryFrom<String> for UserId {
    type Error = ModerationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The store's own id for a moderated item (one row in the item table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub i64);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

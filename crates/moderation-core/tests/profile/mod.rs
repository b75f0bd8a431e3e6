//! The user profile the workflow tests moderate.

use moderation_core::{Moderated, ObjectId};

/// A profile: an id and one free-text field.
#[derive(serde::Serialize)]
pub(crate) struct Profile {
    pub(crate) id: i64,
    pub(crate) bio: String,
}

impl Moderated for Profile {
    const KIND: &'static str = "profile";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

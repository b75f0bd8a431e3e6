//! Hellban visibility (SPEC F8): who sees a hell-banned author's content.

use moderation_core::{Actor, AuthorKey, HiddenAuthors, UserId};

use crate::ban_list::BanList;
use crate::entry::BanKind;

/// How one piece of content is shown to one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Visibility {
    /// Shown as normal.
    Visible,
    /// Shown to staff with a "hell-banned" mark, so moderators know what
    /// nobody else sees.
    VisibleMarked,
    /// Not shown at all.
    Hidden,
}

impl Visibility {
    /// Whether the content is shown at all.
    #[must_use]
    pub fn is_shown(self) -> bool {
        !matches!(self, Self::Hidden)
    }

    /// How content by `author` is shown to `viewer`, given whether the author
    /// is hell-banned.
    ///
    /// The author always sees their own content as normal, so the ban is not
    /// noticed; staff see it marked; everyone else, anonymous visitors
    /// included, does not see it.
    #[must_use]
    pub fn of(author: &UserId, author_hellbanned: bool, viewer: &Actor) -> Self {
        if !author_hellbanned {
            return Self::Visible;
        }
        if viewer.user.as_ref() == Some(author) {
            return Self::Visible;
        }
        if viewer.is_staff() {
            return Self::VisibleMarked;
        }
        Self::Hidden
    }
}

impl BanList {
    /// How content by `author` is shown to `viewer` under the current bans.
    #[must_use]
    pub fn visibility(&self, author: &UserId, viewer: &Actor) -> Visibility {
        Visibility::of(author, self.is_hellbanned(author), viewer)
    }

    /// The part of a store listing's filter that hides hell-banned authors
    /// from `viewer` (`ItemFilter::hidden`): every author hell-banned now,
    /// except the viewer, who keeps seeing their own items. Staff get an
    /// empty set, since they see everything; mark what they see with
    /// [`BanList::visibility`].
    ///
    /// ```
    /// # use moderation_core::{Actor, ItemFilter, UserId};
    /// # use moderation_misery::BanList;
    /// # let bans = BanList::default();
    /// let viewer = Actor::user(UserId::from(4_i64));
    /// let filter = ItemFilter {
    ///     hidden: bans.hidden_authors_for(&viewer),
    ///     ..ItemFilter::default()
    /// };
    /// # let _ = filter;
    /// ```
    #[must_use]
    pub fn hidden_authors_for(&self, viewer: &Actor) -> HiddenAuthors {
        if viewer.is_staff() {
            return HiddenAuthors::default();
        }
        let now = self.clock().now();
        let authors = self
            .snapshot()
            .users_banned(BanKind::Hellban, now)
            .map(|user| AuthorKey::User(user.clone()))
            .collect();
        HiddenAuthors::new(authors, viewer.user.clone().map(AuthorKey::User))
    }

    /// Keeps the items `viewer` may see, pairing each with its visibility;
    /// `author_of` names each item's author. For store listings, put
    /// [`BanList::hidden_authors_for`] in the filter instead, so pages keep
    /// their size.
    pub fn visible_to<'a, T>(
        &'a self,
        viewer: &'a Actor,
        items: impl IntoIterator<Item = T> + 'a,
        author_of: impl Fn(&T) -> &UserId + 'a,
    ) -> impl Iterator<Item = (T, Visibility)> + 'a {
        items.into_iter().filter_map(move |item| {
            let visibility = self.visibility(author_of(&item), viewer);
            visibility.is_shown().then_some((item, visibility))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{BanEntry, BanKind, BanTarget};
    use chrono::Utc;
    use moderation_core::SystemClock;
    use std::sync::Arc;

    fn list_with_hellbanned(user: i64) -> BanList {
        BanList::with_entries(
            Arc::new(SystemClock),
            [BanEntry {
                id: 1,
                target: BanTarget::User(UserId::from(user)),
                kind: BanKind::Hellban,
                reason: "spam".to_owned(),
                created_by: UserId::from(1_i64),
                created_at: Utc::now(),
                expires_at: None,
            }],
        )
    }

    #[test]
    fn hellbanned_author_sees_own_content() {
        let bans = list_with_hellbanned(9);
        let author = UserId::from(9_i64);
        assert_eq!(
            bans.visibility(&author, &Actor::user(author.clone())),
            Visibility::Visible
        );
    }

    #[test]
    fn others_do_not_see_hellbanned_content() {
        let bans = list_with_hellbanned(9);
        let author = UserId::from(9_i64);
        assert_eq!(
            bans.visibility(&author, &Actor::user(UserId::from(10_i64))),
            Visibility::Hidden
        );
        assert_eq!(
            bans.visibility(&author, &Actor::anonymous()),
            Visibility::Hidden
        );
    }

    #[test]
    fn staff_see_hellbanned_content_marked() {
        let bans = list_with_hellbanned(9);
        let staff = Actor::user(UserId::from(2_i64)).with_staff(true);
        assert_eq!(
            bans.visibility(&UserId::from(9_i64), &staff),
            Visibility::VisibleMarked
        );
    }

    #[test]
    fn content_of_others_is_visible_to_all() {
        let bans = list_with_hellbanned(9);
        assert_eq!(
            bans.visibility(&UserId::from(3_i64), &Actor::anonymous()),
            Visibility::Visible
        );
    }

    #[test]
    fn hidden_authors_follow_the_viewer() {
        let bans = list_with_hellbanned(9);
        let banned = AuthorKey::User(UserId::from(9_i64));
        let reader = bans.hidden_authors_for(&Actor::user(UserId::from(4_i64)));
        assert_eq!(reader.authors, std::slice::from_ref(&banned));
        assert!(!reader.shows(Some(&banned)));
        assert!(reader.shows(None));
        let author = bans.hidden_authors_for(&Actor::user(UserId::from(9_i64)));
        assert!(author.shows(Some(&banned)));
        assert!(
            !bans
                .hidden_authors_for(&Actor::anonymous())
                .shows(Some(&banned))
        );
        let staff = Actor::user(UserId::from(2_i64)).with_staff(true);
        assert_eq!(bans.hidden_authors_for(&staff), HiddenAuthors::default());
    }

    #[test]
    fn visible_to_filters_a_thread() {
        let bans = list_with_hellbanned(9);
        let posts = vec![
            (UserId::from(3_i64), "hi"),
            (UserId::from(9_i64), "buy pills"),
        ];
        let reader = Actor::user(UserId::from(4_i64));
        let shown: Vec<_> = bans
            .visible_to(&reader, posts.clone(), |p| &p.0)
            .map(|(p, _)| p.1)
            .collect();
        assert_eq!(shown, ["hi"]);
        let author = Actor::user(UserId::from(9_i64));
        assert_eq!(bans.visible_to(&author, posts, |p| &p.0).count(), 2);
    }
}

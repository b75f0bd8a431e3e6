//! Newest-first keyset pages on `(at, id)`, shared by the moderation log
//! and the audit trail: the `SELECT` with its filters (built with
//! [`sqlx::QueryBuilder`], every value bound), the cursor and limit values,
//! and the cut of the fetched rows into a page.

use moderation_core::{Cursor, Page, PageRequest};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::record::to_micros;

/// A `SELECT` whose conditions are added one by one, ending in the keyset
/// condition, the order and the limit. Only fixed fragments are pushed as
/// text; every value goes through `push_bind`.
pub(crate) struct PageSql<DB: Database> {
    builder: QueryBuilder<DB>,
    conditions: usize,
}

impl<DB> PageSql<DB>
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    /// `SELECT {columns} FROM {table}` (both fixed text of the caller's).
    pub(crate) fn select(columns: &'static str, table: &'static str) -> Self {
        let mut builder = QueryBuilder::new("SELECT ");
        builder.push(columns).push(" FROM ").push(table);
        Self {
            builder,
            conditions: 0,
        }
    }

    /// Starts the next condition (after `WHERE` or `AND`); the caller pushes
    /// its fixed text and bound values on the returned builder.
    pub(crate) fn and(&mut self) -> &mut QueryBuilder<DB> {
        self.builder.push(if self.conditions == 0 {
            " WHERE "
        } else {
            " AND "
        });
        self.conditions += 1;
        &mut self.builder
    }

    /// The statement: `(at, id) < cursor` when the page has one, newest
    /// first, at most `keyset.fetch` rows.
    pub(crate) fn finish(mut self, keyset: &Keyset) -> QueryBuilder<DB> {
        if let Some((at, id)) = keyset.after {
            self.and()
                .push("(at, id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        self.builder
            .push(" ORDER BY at DESC, id DESC LIMIT ")
            .push_bind(keyset.fetch);
        self.builder
    }
}

/// The cursor and limit values of one page request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyset {
    /// The cursor as `(at, id)`.
    pub(crate) after: Option<(i64, i64)>,
    /// One more than the page size, to learn whether a next page exists.
    pub(crate) fetch: i64,
    limit: usize,
}

impl Keyset {
    /// The keyset of `page`, its size clamped to the ports' maximum.
    pub(crate) fn new(page: &PageRequest) -> Self {
        let limit = page.clamped_limit();
        Self {
            after: page.after.map(|c| (to_micros(c.created_at), c.id.0)),
            fetch: i64::from(limit) + 1,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        }
    }

    /// Cuts the fetched rows (up to one more than the page) into a page.
    pub(crate) fn page<T>(&self, mut items: Vec<T>, cursor: impl Fn(&T) -> Cursor) -> Page<T> {
        let next = if items.len() > self.limit {
            items.truncate(self.limit);
            items.last().map(cursor)
        } else {
            None
        };
        Page { items, next }
    }
}

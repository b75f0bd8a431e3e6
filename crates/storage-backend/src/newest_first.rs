//! Newest-first keyset pages on `(at, id)`, shared by the moderation log
//! and the audit trail: the query text with its filters, the cursor and
//! limit values, and the cut of the fetched rows into a page.

use moderation_core::{Cursor, Page, PageRequest};

use crate::record::to_micros;

/// A `SELECT` whose filters are added one by one, each with numbered
/// placeholders, ending in the keyset condition, the order and the limit.
/// Only fixed fragments and placeholders go in, never input.
#[derive(Debug)]
pub(crate) struct PageQuery {
    sql: String,
    conditions: Vec<String>,
    params: usize,
}

impl PageQuery {
    /// `SELECT {columns} FROM {table}`.
    pub(crate) fn select(columns: &str, table: &str) -> Self {
        Self {
            sql: format!("SELECT {columns} FROM {table}"),
            conditions: Vec::new(),
            params: 0,
        }
    }

    /// The next placeholder number.
    pub(crate) fn param(&mut self) -> usize {
        self.params += 1;
        self.params
    }

    /// Adds `condition` (written with numbers from [`param`](Self::param)).
    pub(crate) fn filter(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// The statement: the filters, `(at, id) < cursor` when `after`, newest
    /// first, and the limit as the last placeholder.
    pub(crate) fn finish(mut self, after: bool) -> String {
        if after {
            let (at, id) = (self.param(), self.param());
            self.filter(format!("(at, id) < (${at}, ${id})"));
        }
        if !self.conditions.is_empty() {
            self.sql.push_str(" WHERE ");
            self.sql.push_str(&self.conditions.join(" AND "));
        }
        let limit = self.param();
        self.sql
            .push_str(&format!(" ORDER BY at DESC, id DESC LIMIT ${limit}"));
        self.sql
    }
}

/// The cursor and limit values of one page request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyset {
    /// The cursor as `(at, id)`, bound after the filters.
    pub(crate) after: Option<(i64, i64)>,
    /// One more than the page size, to learn whether a next page exists.
    pub(crate) fetch: i64,
    limit: usize,
}

impl Keyset {
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

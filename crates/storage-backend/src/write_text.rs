//! A workflow write on SQLite as one statement text.
//!
//! A create, an edit or a decision writes up to three rows and some log
//! rows: the entry, the entry it supersedes, the object's record. Each
//! statement is a round trip to the connection's worker thread, so the
//! store sends them all as one text, `BEGIN IMMEDIATE; ...; COMMIT` when
//! the write stands alone, which the driver runs statement by statement on
//! that thread: one round trip, and atomic.
//!
//! The statements are the ones the statement-by-statement path runs, whose
//! `$N` placeholders stand in the order they are bound; in the text each
//! becomes `?`, the next of the text's values. A version check that must
//! stop the write is an insert into `moderation_write_checks` (migration
//! `20261207000015`) that runs only when the statement before it changed
//! nothing, and that the table's named CHECK constraint refuses: the text
//! stops there with an error naming the check, and the store rolls back
//! and reports the conflict.

/// A version check of a write: which row no longer had the version the
/// write was planned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The entry the write decides or changes.
    Entry,
    /// The pending entry an edit supersedes.
    SupersededEntry,
    /// The object's record (or, for a new one, a record already there).
    Record,
}

impl Check {
    const ALL: [Self; 3] = [Self::Entry, Self::SupersededEntry, Self::Record];

    /// The value the check inserts, which its constraint refuses.
    fn value(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::SupersededEntry => "superseded entry",
            Self::Record => "record",
        }
    }

    /// The name of the constraint, which SQLite's error message ends with.
    fn constraint(self) -> &'static str {
        match self {
            Self::Entry => "moderation_entry_version",
            Self::SupersededEntry => "moderation_superseded_entry_version",
            Self::Record => "moderated_object_version",
        }
    }
}

/// The check behind `error`, when a write text stopped at one.
pub(crate) fn failed_check(error: &sqlx::Error) -> Option<Check> {
    let message = error.as_database_error()?.message();
    let name = message.strip_prefix("CHECK constraint failed: ")?;
    Check::ALL
        .into_iter()
        .find(|check| check.constraint() == name)
}

/// A statement text being built.
#[derive(Debug)]
pub(crate) struct WriteText {
    sql: String,
    standalone: bool,
}

impl WriteText {
    /// A text in a transaction of its own (`standalone`) or inside the
    /// caller's.
    pub(crate) fn new(standalone: bool) -> Self {
        let mut sql = String::with_capacity(1_024);
        if standalone {
            sql.push_str("BEGIN IMMEDIATE; ");
        }
        Self { sql, standalone }
    }

    /// Appends `statement`, whose placeholders `$1`, `$2`, ... stand in the
    /// order they are bound: each becomes `?`, the next value of the
    /// text. (The driver reads a numbered `?N` as the text's N-th value,
    /// but binds the numbers a statement skips from its own running count,
    /// which then outruns the values: only unnumbered placeholders bind
    /// right across several statements.)
    pub(crate) fn statement(&mut self, statement: &str) -> &mut Self {
        let mut rest = statement;
        while let Some(at) = rest.find('$') {
            let (before, after) = rest.split_at(at);
            self.sql.push_str(before);
            let after = after.get(1..).unwrap_or_default();
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            // `$` then digits is a placeholder; the statements hold no other.
            self.sql.push(if digits > 0 { '?' } else { '$' });
            rest = after.get(digits..).unwrap_or_default();
        }
        self.sql.push_str(rest);
        self.sql.push_str("; ");
        self
    }

    /// Appends `check` on the statement before: the text stops with an
    /// error naming it when that statement changed no row.
    pub(crate) fn check(&mut self, check: Check) -> &mut Self {
        self.sql
            .push_str("INSERT INTO moderation_write_checks (failed) SELECT '");
        self.sql.push_str(check.value());
        self.sql.push_str("' WHERE changes() = 0; ");
        self
    }

    /// The text, committed at its end when it stands alone.
    pub(crate) fn finish(mut self) -> String {
        if self.standalone {
            self.sql.push_str("COMMIT");
        } else if self.sql.ends_with("; ") {
            self.sql.truncate(self.sql.len() - 2);
        }
        self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_the_next_values_of_the_text() {
        let mut text = WriteText::new(true);
        text.statement("UPDATE t SET a = $1 WHERE id = $2")
            .check(Check::Entry)
            .statement("INSERT INTO u (a, b, c) VALUES ($1, $2, $3)");
        assert_eq!(
            text.finish(),
            "BEGIN IMMEDIATE; UPDATE t SET a = ? WHERE id = ?; \
             INSERT INTO moderation_write_checks (failed) SELECT 'entry' WHERE changes() = 0; \
             INSERT INTO u (a, b, c) VALUES (?, ?, ?); COMMIT"
        );
    }

    #[test]
    fn a_text_inside_a_transaction_neither_begins_nor_commits() {
        let mut text = WriteText::new(false);
        text.statement("DELETE FROM t WHERE id = $1");
        assert_eq!(text.finish(), "DELETE FROM t WHERE id = ?");
    }

    #[test]
    fn two_digit_placeholders_are_replaced_whole() {
        let mut text = WriteText::new(false);
        text.statement("SELECT $1").statement("SELECT $10, '$x'");
        assert_eq!(text.finish(), "SELECT ?; SELECT ?, '$x'");
    }

    /// Every statement a write text holds numbers its placeholders in
    /// the order they appear, as `WriteText::statement` requires.
    #[test]
    fn write_statements_number_their_placeholders_in_order() {
        for statement in [
            crate::objects::INSERT_OBJECT,
            crate::objects::UPDATE_OBJECT,
            crate::objects::INSERT_ENTRY,
            crate::objects::UPDATE_ENTRY,
        ] {
            // Every `$` of these statements starts a placeholder.
            let numbers: Vec<usize> = statement
                .split('$')
                .skip(1)
                .map(|rest| {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().unwrap_or(0)
                })
                .collect();
            assert!(!numbers.is_empty(), "{statement}");
            assert_eq!(
                numbers,
                (1..=numbers.len()).collect::<Vec<_>>(),
                "{statement}"
            );
        }
    }
}

//! JSON columns: `TEXT` holding serde_json text on SQLite, `jsonb` on
//! PostgreSQL. One Rust type binds and decodes both, so the two backends
//! share their queries and row types.
//!
//! The value travels as JSON text both ways: serialized once before the
//! write, parsed once after the read ([`decode`]), where a value that does
//! not parse is reported as a corrupt column by name. PostgreSQL checks the
//! text itself when it stores it in a `jsonb` column.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::StorageError;

/// The JSON text of one column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonColumn(String);

/// `value` as a column value.
///
/// # Errors
/// The serializer's, when `value` cannot be written as JSON.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<JsonColumn, serde_json::Error> {
    serde_json::to_string(value).map(JsonColumn)
}

/// The bytes the column's JSON text takes: what the size limits count.
pub(crate) fn len(column: &JsonColumn) -> usize {
    column.0.len()
}

/// The column's JSON text, for statements that carry it inside a JSON
/// document of their own (PostgreSQL's `jsonb_to_recordset` batches).
#[cfg(feature = "postgres")]
pub(crate) fn text(column: &JsonColumn) -> &str {
    &column.0
}

/// Parses a column read back as `T`; a value that does not parse is a
/// corrupt `column`.
///
/// # Errors
/// [`StorageError::Corrupt`] naming `column`.
pub(crate) fn decode<T: DeserializeOwned>(
    column: &'static str,
    value: &JsonColumn,
) -> Result<T, StorageError> {
    serde_json::from_str(&value.0).map_err(|e| StorageError::corrupt(column, &e))
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
    use sqlx::{Decode, Encode, Sqlite, Type};

    use super::JsonColumn;

    impl Type<Sqlite> for JsonColumn {
        fn type_info() -> SqliteTypeInfo {
            <String as Type<Sqlite>>::type_info()
        }
    }

    impl Encode<'_, Sqlite> for JsonColumn {
        fn encode(self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
            <String as Encode<Sqlite>>::encode(self.0, buf)
        }

        fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
            <String as Encode<Sqlite>>::encode_by_ref(&self.0, buf)
        }
    }

    impl<'r> Decode<'r, Sqlite> for JsonColumn {
        fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
            <String as Decode<Sqlite>>::decode(value).map(JsonColumn)
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
    use sqlx::{Decode, Encode, Postgres, Type};

    use super::JsonColumn;

    /// The version byte that opens `jsonb`'s binary form.
    const JSONB_VERSION: u8 = 1;

    /// `jsonb`, as sqlx names it for its own JSON types.
    fn jsonb() -> PgTypeInfo {
        <sqlx::types::Json<()> as Type<Postgres>>::type_info()
    }

    impl Type<Postgres> for JsonColumn {
        fn type_info() -> PgTypeInfo {
            jsonb()
        }

        // Only `jsonb`: its binary form is the one decoded below.
        fn compatible(ty: &PgTypeInfo) -> bool {
            *ty == jsonb()
        }
    }

    impl Encode<'_, Postgres> for JsonColumn {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            buf.push(JSONB_VERSION);
            buf.extend_from_slice(self.0.as_bytes());
            Ok(IsNull::No)
        }
    }

    impl<'r> Decode<'r, Postgres> for JsonColumn {
        fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
            let binary = value.format() == PgValueFormat::Binary;
            let mut bytes = value.as_bytes()?;
            if binary {
                match bytes.split_first() {
                    Some((&JSONB_VERSION, text)) => bytes = text,
                    _ => return Err("unsupported jsonb format version".into()),
                }
            }
            Ok(JsonColumn(std::str::from_utf8(bytes)?.to_owned()))
        }
    }
}

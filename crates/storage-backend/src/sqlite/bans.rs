//! moderation-misery's `BanStore` for [`SqliteStore`](super::SqliteStore):
//! bans live in the `misery_bans` table of the same database file; writes go
//! through the single write connection, listing through the read pool.

crate::bans::impl_ban_store!(super::SqliteStore, "sqlite", write_pool, read_pool);

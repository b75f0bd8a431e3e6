//! moderation-misery's `BanStore` for [`PgStore`](super::PgStore): bans live
//! in the `misery_bans` table of the same database.

crate::bans::impl_ban_store!(super::PgStore, "postgres", pool, pool);

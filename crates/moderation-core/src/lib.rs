//! # moderation-core
//!
//! The domain of moderation-kit: who acts ([`Actor`]), what they submit, the
//! [`Decision`] the pipeline reaches with its [`Reason`]s, and the ports
//! (small traits) that stores and other crates plug into.
//!
//! ```
//! use moderation_core::{Kind, ObjectId, ObjectRef};
//! let comment = ObjectRef::new(Kind::new("blog.comment")?, ObjectId::from(7_i64));
//! assert_eq!(comment.to_string(), "blog.comment#7");
//! # Ok::<(), moderation_core::ModerationError>(())
//! ```

mod actor;
mod clock;
mod decision;
mod error;
mod ids;
mod memory;
mod store;

/// Client IP resolution from the TCP peer and trusted proxies' forwarding headers.
#[cfg(feature = "http")] pub mod http;

pub use actor::{Actor, AuthorKey, Standing, TrustLevel};
pub use clock::{Clock, ManualClock, SystemClock, truncate_to_micros};
pub use decision::{Decision, Reason, Verdict};
pub use error::{BoxError, ModerationError};
pub use ids::{ItemId, Kind, MAX_ID_LEN, MAX_KIND_LEN, ObjectId, ObjectRef, UserId};
pub use memory::MemoryStore;
pub use store::{
    Cursor, DuplicateQuery, FlagOutcome, ItemFilter, ItemStatus, LogAction, LogEntry,
    MAX_PAGE_SIZE, ModerationStore, NewItem, NewLogEntry, Order, Page, PageRequest, StatusChange,
    StoredItem,
};

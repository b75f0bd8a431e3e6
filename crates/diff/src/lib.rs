//! # moderation-diff
//!
//! Field-by-field differences between two versions of a record, so a
//! moderator reviewing an edit sees exactly what changed, and user text can
//! never turn into markup on the moderator's page.
//!
//! - [`RecordDiff::between`] compares any two [`serde::Serialize`] values
//!   (usually two versions of the same struct) and yields one [`FieldChange`]
//!   per field: unchanged, changed, added or removed, in a stable order, with
//!   nested objects addressed by a [`FieldPath`] such as `author.name`.
//! - Changed text fields carry a [`TextDiff`] computed with
//!   [`similar`](https://docs.rs/similar): word level for prose, line level
//!   for long text, grapheme level on request. A deadline bounds the work;
//!   when it runs out the field is shown as a whole-field replace and
//!   [`TextDiff::used_fallback`] says so.
//! - Renderers: [`RecordDiff::to_html`] (feature `html`, on by default,
//!   everything escaped), [`RecordDiff::to_json`] (a stable, versioned
//!   schema), [`RecordDiff::to_unified_text`].
//! - [`DiffOptions`] excludes or selects fields, labels them, resolves ids to
//!   names, and shows URL / image fields as links or images for `http` and
//!   `https` URLs only.
//! - [`RecordDiff::apply`] replays a diff on the old version and yields the
//!   new one.
//!
//! ```
//! use moderation_diff::{DiffOptions, Presentation, RecordDiff};
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct Post {
//!     title: String,
//!     author_id: u64,
//!     link: String,
//! }
//!
//! let old = Post {
//!     title: "The quick brown fox".into(),
//!     author_id: 1,
//!     link: "https://example.org".into(),
//! };
//! let new = Post {
//!     title: "The quick red fox jumps".into(),
//!     author_id: 1,
//!     link: "javascript:alert(1)".into(),
//! };
//! let options = DiffOptions::new()
//!     .label("title", "Title")
//!     .presentation("link", Presentation::Link)
//!     .resolver("author_id", |id| (id.as_u64() == Some(1)).then(|| "alice".to_owned()));
//!
//! let diff = RecordDiff::between(&old, &new, &options)?;
//! #[cfg(feature = "html")]
//! {
//!     let html = diff.to_html();
//!     assert!(html.contains(
//!         r#"<span class="md-modified"><del class="md-del">brown</del><ins class="md-ins">red</ins></span>"#
//!     ));
//!     assert!(html.contains(r#"<ins class="md-ins"> jumps</ins>"#));
//!     assert!(html.contains(">alice<"));
//!     assert!(!html.contains(r#"href="javascript"#));
//! }
//!
//! let replayed = diff.apply(&old)?;
//! assert_eq!(replayed, serde_json::to_value(&new).map_err(moderation_diff::DiffError::Serialize)?);
//! # Ok::<(), moderation_diff::DiffError>(())
//! ```

mod apply;
mod error;
mod options;
mod path;
mod record;
mod render;
mod text;
mod tokenize;
#[cfg(feature = "html")]
mod url;

pub use error::DiffError;
pub use options::{DiffOptions, Granularity, Presentation};
pub use path::FieldPath;
pub use record::{ChangeKind, FieldChange, RecordDiff};
pub use text::{SpanOp, TextDiff, TextSpan};

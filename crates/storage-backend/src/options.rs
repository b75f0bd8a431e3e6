//! Limits shared by every backend.

/// The default largest serialised payload a store accepts: 256 KiB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Limits that apply to every write, whatever the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// The largest serialised (JSON) payload accepted, in bytes. Larger
    /// payloads fail with `ModerationError::PayloadTooLarge` before anything
    /// reaches the database.
    pub max_payload_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
        }
    }
}

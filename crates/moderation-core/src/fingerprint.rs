//! A stable digest of submitted text, for the duplicate check (B8).

/// The FNV-1a 64-bit digest of the text with surrounding whitespace trimmed,
/// as `fnv1a64:<hex>`. Stable across builds and platforms, so stores can
/// compare digests written by other processes. Not a security hash: it only
/// has to tell an author's recent submissions apart.
///
/// ```
/// use moderation_core::text_fingerprint;
/// assert_eq!(text_fingerprint("hello "), text_fingerprint(" hello"));
/// assert_ne!(text_fingerprint("hello"), text_fingerprint("hullo"));
/// ```
#[must_use]
pub fn text_fingerprint(text: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = text.trim().bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    format!("fnv1a64:{hash:016x}")
}

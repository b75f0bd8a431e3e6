//! The safe-scheme check behind link and image rendering.

/// Returns the URL when it may be placed in an `href` or `src`: an absolute
/// `http` or `https` URL without whitespace or control characters. Anything
/// else (`javascript:`, `data:`, relative or protocol-relative URLs) is shown
/// as escaped text instead.
pub(crate) fn safe_url(candidate: &str) -> Option<&str> {
    let has_host = ["http://", "https://"].iter().any(|scheme| {
        candidate
            .get(..scheme.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
            && candidate.len() > scheme.len()
    });
    let clean = !candidate
        .chars()
        .any(|c| c.is_whitespace() || c.is_control());
    (has_host && clean).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::safe_url;

    #[test]
    fn only_http_and_https_pass() {
        assert!(safe_url("https://example.org/a.png").is_some());
        assert!(safe_url("HTTP://example.org").is_some());
        assert!(safe_url("javascript:alert(1)").is_none());
        assert!(safe_url(" https://example.org").is_none());
        assert!(safe_url("//example.org").is_none());
        assert!(safe_url("data:image/png;base64,AAAA").is_none());
        assert!(safe_url("https://").is_none());
    }
}

//! Reading a keyset-paginated listing to its end, checking each page's size.

use std::future::Future;

use moderation_core::{ModerationError, Page, PageRequest};

/// Every item of a newest-first listing, `size` per page, following `next`
/// to the end; panics if a page holds more than `size`.
///
/// # Errors
/// The first error `fetch` returns.
pub async fn read_pages<T, F, Fut>(size: u32, mut fetch: F) -> Result<Vec<T>, ModerationError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, ModerationError>>,
{
    let mut all = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let got = fetch(page).await?;
        assert!(
            got.items.len() <= size as usize,
            "a page holds at most its limit"
        );
        all.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return Ok(all),
        }
    }
}

//! Paging a long list: the GOV.UK Design System's pagination (previous, the page numbers
//! around the current one with the first and last, next), as links that work without
//! JavaScript.

/// The links of one page of a list.
pub struct Pager {
    /// The current page, from 1.
    pub page: u32,
    /// How many pages in all (at least 1).
    pub pages: u32,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// Each item: `Some((number, link))` a page, `None` the pages left out between.
    pub items: Vec<Option<(u32, String)>>,
}

impl Pager {
    /// The pager of `page` of `pages`, each page's link made by `link`.
    pub fn new(page: u32, pages: u32, link: impl Fn(u32) -> String) -> Pager {
        let pages = pages.max(1);
        let page = page.clamp(1, pages);
        let items = numbers_shown(page, pages)
            .into_iter()
            .map(|n| n.map(|n| (n, link(n))))
            .collect();
        Pager {
            page,
            pages,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
            items,
        }
    }

    /// Whether there is more than one page (a single page shows no pager).
    pub fn many(&self) -> bool {
        self.pages > 1
    }
}

/// The link to page `n` of a list at `base` (a path), keeping the list's other parameters
/// (`(name, value)`; those with an empty value are left out).
pub fn page_link(base: &str, keep: &[(&str, &str)], n: u32) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (name, value) in keep.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(name, value);
    }
    q.append_pair("page", &n.to_string());
    format!("{base}?{}", q.finish())
}

/// The page asked for in a `page` query parameter: 1 where it is missing or not a number.
pub fn page_number(param: Option<&str>) -> u32 {
    param
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1)
}

/// How many pages `total` items make at `per_page` a page (at least one, even when empty).
pub fn pages(total: u64, per_page: u32) -> u32 {
    let per = u64::from(per_page.max(1));
    u32::try_from(total.div_ceil(per))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// The page numbers shown: the first, the last, the current one and its neighbours, with
/// `None` where numbers are left out (a gap of one page is shown as that page instead).
fn numbers_shown(page: u32, pages: u32) -> Vec<Option<u32>> {
    let mut wanted: Vec<u32> = [1, page.saturating_sub(1), page, page + 1, pages]
        .into_iter()
        .filter(|n| (1..=pages).contains(n))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for n in wanted {
        if n == last + 2 {
            out.push(Some(last + 1));
        } else if n > last + 2 {
            out.push(None);
        }
        out.push(Some(n));
        last = n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(page: u32, pages: u32) -> Vec<Option<u32>> {
        numbers_shown(page, pages)
    }

    #[test]
    fn the_first_last_and_neighbours_with_gaps_marked() {
        assert_eq!(shown(1, 1), vec![Some(1)]);
        assert_eq!(shown(1, 3), vec![Some(1), Some(2), Some(3)]);
        assert_eq!(shown(1, 40), vec![Some(1), Some(2), None, Some(40)]);
        assert_eq!(
            shown(10, 40),
            vec![Some(1), None, Some(9), Some(10), Some(11), None, Some(40)]
        );
        // A gap of one page shows the page, not "…".
        assert_eq!(
            shown(4, 6),
            vec![Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)]
        );
        assert_eq!(shown(40, 40), vec![Some(1), None, Some(39), Some(40)]);
    }

    #[test]
    fn pages_and_the_page_asked_for() {
        assert_eq!(pages(0, 50), 1);
        assert_eq!(pages(50, 50), 1);
        assert_eq!(pages(51, 50), 2);
        assert_eq!(pages(2000, 50), 40);
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("3")), 3);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("two")), 1);
        assert_eq!(
            page_link("/x", &[("q", "a b"), ("status", "")], 2),
            "/x?q=a+b&page=2"
        );
        let p = Pager::new(2, 3, |n| page_link("/x", &[], n));
        assert_eq!(p.previous.as_deref(), Some("/x?page=1"));
        assert_eq!(p.next.as_deref(), Some("/x?page=3"));
        assert!(p.many());
        assert!(!Pager::new(1, 1, |n| n.to_string()).many());
    }
}

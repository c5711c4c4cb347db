/// Where a long list is: "‹ 2 / 7 ›", with the links to the pages either side.
struct Pager {
    let page: Int
    let pages: Int
    let previous: String?
    let next: String?

    /// `nil` when everything fits on one page.
    init?(page: Int, pages: Int, link: (Int) -> String) {
        guard pages > 1 else { return nil }
        self.page = page
        self.pages = pages
        previous = page > 1 ? link(page - 1) : nil
        next = page < pages ? link(page + 1) : nil
    }
}

//! HTML extraction with `scraper`: picks the main content (`<main>`, `[role=main]`, a single
//! `<article>`, else `<body>`), drops chrome (navigation, headers, footers, sidebars, cookie
//! banners, scripts, styles, forms, hidden elements) and walks what is left into blocks that
//! remember their heading path.
//!
//! The walk is one recursive pass: inline text accumulates until a block-level element starts
//! or ends, then becomes a paragraph (or a list item inside `<li>`). Tags that are not known
//! inline tags count as block-level, so unknown and custom elements never glue words together.

use scraper::{ElementRef, Html, Node};

use super::blocks::BlockSink;
use super::normalize::{normalize_code, normalize_whitespace, title_from_url};
use super::{Block, BlockKind, Document};
use crate::text::language;

/// Extracts the main content of an HTML page. `url` gives the title when the page has none.
/// Malformed HTML is parsed the way browsers do; an empty page gives an empty document.
pub fn extract_html(html: &str, url: &str) -> Document {
    let page = Html::parse_document(html);
    let html_element = page.root_element();

    let content_root = choose_content_root(html_element);
    let mut builder = BlockBuilder::new(is_main_content_element(content_root));
    builder.walk_children(content_root);
    let mut blocks = builder.finish();

    let body = find_body(html_element);
    let root_gave_nothing = blocks.is_empty() && content_root != body;
    if root_gave_nothing {
        // an empty <main> placeholder (filled by JavaScript) must not hide a content-full body
        let mut body_builder = BlockBuilder::new(false);
        body_builder.walk_children(body);
        blocks = body_builder.finish();
    }

    let first_h1 = blocks
        .iter()
        .find(|block| block.kind == BlockKind::Heading { level: 1 })
        .map(|block| block.text.clone());
    let title = page_title(html_element)
        .or(first_h1)
        .or_else(|| title_from_url(url));

    let declared_language = html_element
        .value()
        .attr("lang")
        .or_else(|| html_element.value().attr("xml:lang"))
        .and_then(language::from_declared_tag);
    let language = declared_language.or_else(|| detect_language(&blocks));

    Document {
        title,
        language,
        blocks,
    }
}

/// Decodes the bytes of a response (see [`super::decode_html_bytes`]) and extracts them.
pub fn extract_html_bytes(bytes: &[u8], content_type: Option<&str>, url: &str) -> Document {
    let html = super::decode_html_bytes(bytes, content_type);
    extract_html(&html, url)
}

/// Elements dropped with everything inside them.
const DROPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "aside", "footer", "form", "iframe", "svg",
    "canvas", "button", "select", "input", "textarea", "object", "embed", "audio", "video", "map",
    "dialog", "head", "title", "link", "meta", "img", "picture", "math",
];

/// ARIA roles of page chrome.
const DROPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alertdialog",
    "toolbar",
    "tablist",
];

/// Words in a class or id that mark chrome (`cookie-banner`, `site-nav`, `left_sidebar`).
/// `header` is not here: `article-header` usually holds the title.
const DROPPED_CLASS_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "sidebar",
    "breadcrumb",
    "breadcrumbs",
    "footer",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "toc",
    "share",
    "sharing",
    "social",
    "newsletter",
    "subscribe",
    "popup",
    "modal",
    "advert",
    "advertisement",
    "ads",
    "promo",
    "feedback",
    "skip",
];

/// Whole class names of text meant for screen readers only.
const DROPPED_CLASSES: &[&str] = &[
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "screenreader",
    "skip-link",
    "side-bar",
    "table-of-contents",
    "onetrust-banner-sdk",
];

/// Tags whose text flows inside a paragraph; every other element starts a new block.
const INLINE_TAGS: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "sup", "time", "tt", "u", "var", "wbr",
];

/// Accumulates blocks while walking the content tree.
struct BlockBuilder {
    sink: BlockSink,
    /// Inline text not yet turned into a block.
    pending_inline: String,
    /// Nesting of `<ul>`/`<ol>`, for the depth of list items.
    list_depth: u8,
    /// Inside `<main>` or `<article>`, a `<header>` is the article's header (title, byline)
    /// rather than the site banner, so it is kept.
    inside_main_content: bool,
    /// Element nesting of the walk; past [`MAX_NESTING`] the rest is read as flat text so a
    /// hostile page of a million nested `<div>`s cannot overflow the stack.
    nesting: usize,
}

/// Deepest element nesting walked recursively (real pages stay far below 100).
const MAX_NESTING: usize = 200;

impl BlockBuilder {
    fn new(inside_main_content: bool) -> Self {
        Self {
            sink: BlockSink::default(),
            pending_inline: String::new(),
            list_depth: 0,
            inside_main_content,
            nesting: 0,
        }
    }

    fn finish(mut self) -> Vec<Block> {
        self.flush_inline();
        self.sink.blocks
    }

    fn walk_children(&mut self, element: ElementRef<'_>) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.pending_inline.push_str(text),
                Node::Element(_) => {
                    if let Some(child_element) = ElementRef::wrap(child) {
                        self.walk_element(child_element);
                    }
                }
                _ => {}
            }
        }
    }

    fn walk_element(&mut self, element: ElementRef<'_>) {
        if self.is_dropped(element) {
            return;
        }
        if self.nesting >= MAX_NESTING {
            // iterative traversal: no recursion below this depth
            self.pending_inline.push(' ');
            self.pending_inline.extend(element.text());
            self.pending_inline.push(' ');
            return;
        }
        self.nesting += 1;
        self.walk_known_element(element);
        self.nesting -= 1;
    }

    fn walk_known_element(&mut self, element: ElementRef<'_>) {
        let name = element.value().name();
        if INLINE_TAGS.contains(&name) {
            self.walk_children(element);
            return;
        }
        self.flush_inline();
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name.as_bytes()[1] - b'0';
                let text = normalize_whitespace(&inline_text(element));
                self.sink.push_heading(level, text);
            }
            "pre" => {
                let text = normalize_code(&element.text().collect::<String>());
                let language = code_language(element);
                self.sink.push_block(BlockKind::Code { language }, text);
            }
            "table" => self.walk_table(element),
            "ul" | "ol" | "menu" => {
                self.list_depth = self.list_depth.saturating_add(1);
                self.walk_children(element);
                self.flush_inline();
                self.list_depth = self.list_depth.saturating_sub(1);
            }
            "li" => {
                self.sink.open_list_item(self.list_depth.max(1));
                self.walk_children(element);
                self.flush_inline();
                self.sink.close_list_item();
            }
            "br" => self.pending_inline.push(' '),
            "main" | "article" => {
                let was_inside = self.inside_main_content;
                self.inside_main_content = true;
                self.walk_children(element);
                self.flush_inline();
                self.inside_main_content = was_inside;
            }
            _ => {
                self.walk_children(element);
                self.flush_inline();
            }
        }
    }

    /// Rows become `cell | cell | cell`; a caption becomes a paragraph. Cells are flattened,
    /// nested tables included.
    fn walk_table(&mut self, table: ElementRef<'_>) {
        for part in table.child_elements() {
            if self.is_dropped(part) {
                continue;
            }
            match part.value().name() {
                "caption" => {
                    let text = normalize_whitespace(&inline_text(part));
                    self.sink.push_block(BlockKind::Paragraph, text);
                }
                "thead" | "tbody" | "tfoot" => self.walk_table(part),
                "tr" => {
                    let cells: Vec<String> = part
                        .child_elements()
                        .filter(|cell| matches!(cell.value().name(), "td" | "th"))
                        .filter(|cell| !self.is_dropped(*cell))
                        .map(|cell| normalize_whitespace(&inline_text(cell)))
                        .collect();
                    if cells.iter().any(|cell| !cell.is_empty()) {
                        self.sink.push_block(BlockKind::TableRow, cells.join(" | "));
                    }
                }
                _ => {}
            }
        }
    }

    fn is_dropped(&self, element: ElementRef<'_>) -> bool {
        let value = element.value();
        let name = value.name();
        if DROPPED_TAGS.contains(&name) {
            return true;
        }
        if name == "header" && !self.inside_main_content {
            return true;
        }
        is_hidden_or_chrome(element)
    }

    fn flush_inline(&mut self) {
        if self.pending_inline.is_empty() {
            return;
        }
        let text = normalize_whitespace(&self.pending_inline);
        self.pending_inline.clear();
        self.sink.push_text(text);
    }
}

/// Hidden by attribute or style, or chrome by ARIA role, class or id.
fn is_hidden_or_chrome(element: ElementRef<'_>) -> bool {
    let value = element.value();
    if value.attr("hidden").is_some() {
        return true;
    }
    if value
        .attr("aria-hidden")
        .is_some_and(|hidden| hidden.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if let Some(style) = value.attr("style") {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if compact.contains("display:none") || compact.contains("visibility:hidden") {
            return true;
        }
    }
    if let Some(role) = value.attr("role") {
        let role = role.trim().to_ascii_lowercase();
        if DROPPED_ROLES.contains(&role.as_str()) {
            return true;
        }
    }
    let class_names = value.attr("class").unwrap_or_default();
    let id = value.attr("id").unwrap_or_default();
    for name in class_names.split_whitespace().chain(std::iter::once(id)) {
        let name = name.to_ascii_lowercase();
        if DROPPED_CLASSES.contains(&name.as_str()) {
            return true;
        }
        let mut words = name.split(|c: char| !c.is_ascii_alphanumeric());
        if words.any(|word| DROPPED_CLASS_WORDS.contains(&word)) {
            return true;
        }
    }
    false
}

/// Text of an element and its descendants, skipping dropped ones; block-level descendants and
/// `<br>` are separated by a space so words of adjacent blocks never merge.
fn inline_text(element: ElementRef<'_>) -> String {
    let mut text = String::new();
    append_inline_text(element, &mut text, 0);
    text
}

fn append_inline_text(element: ElementRef<'_>, text: &mut String, nesting: usize) {
    if nesting >= MAX_NESTING {
        text.extend(element.text());
        return;
    }
    for child in element.children() {
        match child.value() {
            Node::Text(fragment) => text.push_str(fragment),
            Node::Element(child_value) => {
                let Some(child_element) = ElementRef::wrap(child) else {
                    continue;
                };
                let name = child_value.name();
                if DROPPED_TAGS.contains(&name) || is_hidden_or_chrome(child_element) {
                    continue;
                }
                let is_inline = INLINE_TAGS.contains(&name);
                if !is_inline {
                    text.push(' ');
                }
                append_inline_text(child_element, text, nesting + 1);
                if !is_inline {
                    text.push(' ');
                }
            }
            _ => {}
        }
    }
}

/// `language-rust` / `lang-rust` on the `<pre>` or its `<code>`.
fn code_language(pre: ElementRef<'_>) -> Option<String> {
    let code_children = pre
        .child_elements()
        .filter(|child| child.value().name() == "code");
    std::iter::once(pre)
        .chain(code_children)
        .find_map(|element| {
            element.value().classes().find_map(|class| {
                let language = class
                    .strip_prefix("language-")
                    .or_else(|| class.strip_prefix("lang-"))?;
                (!language.is_empty()).then(|| language.to_ascii_lowercase())
            })
        })
}

/// `<main>`, else `[role=main]`, else the only `<article>`, else `<body>`.
fn choose_content_root(html_element: ElementRef<'_>) -> ElementRef<'_> {
    let mut role_main = None;
    let mut articles = Vec::new();
    for element in html_element.descendent_elements() {
        let value = element.value();
        if value.name() == "main" {
            return element;
        }
        let is_role_main = value
            .attr("role")
            .is_some_and(|role| role.trim().eq_ignore_ascii_case("main"));
        if is_role_main && role_main.is_none() {
            role_main = Some(element);
        }
        if value.name() == "article" {
            articles.push(element);
        }
    }
    if let Some(element) = role_main {
        return element;
    }
    if let [only_article] = articles.as_slice() {
        return *only_article;
    }
    find_body(html_element)
}

fn is_main_content_element(element: ElementRef<'_>) -> bool {
    let value = element.value();
    matches!(value.name(), "main" | "article")
        || value
            .attr("role")
            .is_some_and(|role| role.trim().eq_ignore_ascii_case("main"))
}

fn find_body(html_element: ElementRef<'_>) -> ElementRef<'_> {
    html_element
        .child_elements()
        .find(|child| child.value().name() == "body")
        .unwrap_or(html_element)
}

fn page_title(html_element: ElementRef<'_>) -> Option<String> {
    let head = html_element
        .child_elements()
        .find(|child| child.value().name() == "head")?;
    let title_element = head
        .child_elements()
        .find(|child| child.value().name() == "title")?;
    let title = normalize_whitespace(&title_element.text().collect::<String>());
    (!title.is_empty()).then_some(title)
}

/// Language detection over the prose of the page (code would look like English to whatlang).
fn detect_language(blocks: &[Block]) -> Option<String> {
    let mut prose = String::new();
    for block in blocks {
        if matches!(block.kind, BlockKind::Code { .. }) {
            continue;
        }
        prose.push_str(&block.text);
        prose.push('\n');
        if prose.len() > 4096 {
            break;
        }
    }
    language::detect_any(&prose).map(str::to_string)
}

//! Markdown extraction with `pulldown-cmark`: the CommonMark events become the same blocks as
//! HTML (headings with their path, paragraphs, list items with depth, table rows, fenced code
//! kept verbatim). Raw HTML inside Markdown is dropped. The title comes from a YAML front
//! matter `title:` line, else the first `# heading`.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::blocks::BlockSink;
use super::normalize::{normalize_code, normalize_whitespace};
use super::{BlockKind, Document};
use crate::text::language;

/// Extracts a Markdown document. Never fails: any text is valid Markdown.
pub fn extract_markdown(markdown: &str) -> Document {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut builder = MarkdownBuilder::default();
    for event in Parser::new_ext(markdown, options) {
        builder.handle(event);
    }
    builder.flush_text();

    let first_h1 = builder
        .sink
        .blocks
        .iter()
        .find(|block| block.kind == BlockKind::Heading { level: 1 })
        .map(|block| block.text.clone());
    let title = builder.front_matter_title.clone().or(first_h1);
    let prose: Vec<&str> = builder
        .sink
        .blocks
        .iter()
        .filter(|block| !matches!(block.kind, BlockKind::Code { .. }))
        .map(|block| block.text.as_str())
        .collect();
    let language = language::detect_any(&prose.join("\n")).map(str::to_string);
    Document {
        title,
        language,
        blocks: builder.sink.blocks,
    }
}

#[derive(Default)]
struct MarkdownBuilder {
    sink: BlockSink,
    /// Text of the paragraph, heading or code block being read.
    text: String,
    list_depth: u8,
    /// Language of the fenced code block being read; `Some(None)` for an unlabelled one.
    open_code_block: Option<Option<String>>,
    /// Cells of the table row being read.
    open_row: Option<Vec<String>>,
    inside_front_matter: bool,
    front_matter_title: Option<String>,
}

impl MarkdownBuilder {
    fn handle(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.inside_front_matter => self.read_front_matter(&text),
            Event::Text(text)
            | Event::Code(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text) => self.text.push_str(&text),
            Event::SoftBreak | Event::HardBreak => self.text.push(' '),
            Event::Rule => self.flush_text(),
            Event::Html(_)
            | Event::InlineHtml(_)
            | Event::FootnoteReference(_)
            | Event::TaskListMarker(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { .. } | Tag::Paragraph | Tag::BlockQuote(_) => self.flush_text(),
            Tag::List(_) => {
                self.flush_text();
                self.list_depth = self.list_depth.saturating_add(1);
            }
            Tag::Item => {
                self.flush_text();
                self.sink.open_list_item(self.list_depth.max(1));
            }
            Tag::CodeBlock(kind) => {
                self.flush_text();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split([' ', ',', '{'])
                        .next()
                        .filter(|word| !word.is_empty())
                        .map(str::to_ascii_lowercase),
                    CodeBlockKind::Indented => None,
                };
                self.open_code_block = Some(language);
            }
            Tag::TableHead | Tag::TableRow => {
                self.flush_text();
                self.open_row = Some(Vec::new());
            }
            Tag::TableCell => self.text.clear(),
            Tag::MetadataBlock(_) => self.inside_front_matter = true,
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(level) => {
                let text = normalize_whitespace(&std::mem::take(&mut self.text));
                self.sink.push_heading(level as u8, text);
            }
            TagEnd::Paragraph | TagEnd::BlockQuote(_) => self.flush_text(),
            TagEnd::List(_) => {
                self.flush_text();
                self.list_depth = self.list_depth.saturating_sub(1);
            }
            TagEnd::Item => {
                self.flush_text();
                self.sink.close_list_item();
            }
            TagEnd::CodeBlock => {
                let code = normalize_code(&std::mem::take(&mut self.text));
                let language = self.open_code_block.take().flatten();
                self.sink.push_block(BlockKind::Code { language }, code);
            }
            TagEnd::TableCell => {
                let cell = normalize_whitespace(&std::mem::take(&mut self.text));
                if let Some(row) = self.open_row.as_mut() {
                    row.push(cell);
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(cells) = self.open_row.take()
                    && cells.iter().any(|cell| !cell.is_empty())
                {
                    self.sink.push_block(BlockKind::TableRow, cells.join(" | "));
                }
            }
            TagEnd::MetadataBlock(_) => self.inside_front_matter = false,
            _ => {}
        }
    }

    fn read_front_matter(&mut self, text: &str) {
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("title:") {
                let title = normalize_whitespace(value.trim().trim_matches(['"', '\'']));
                if !title.is_empty() {
                    self.front_matter_title = Some(title);
                }
            }
        }
    }

    fn flush_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = normalize_whitespace(&std::mem::take(&mut self.text));
        self.sink.push_text(text);
    }
}

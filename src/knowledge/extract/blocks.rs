//! The block list both structured readers (HTML and Markdown) fill: each block gets the heading
//! path open when it is read, and loose text inside a list item becomes a list item.

use super::{Block, BlockKind};

#[derive(Default)]
pub(super) struct BlockSink {
    pub(super) blocks: Vec<Block>,
    /// Open headings as (level, text), outermost first; a new heading closes deeper ones.
    open_headings: Vec<(u8, String)>,
    /// Depths of the list items that enclose the reader.
    open_list_items: Vec<u8>,
}

impl BlockSink {
    pub(super) fn open_list_item(&mut self, depth: u8) {
        self.open_list_items.push(depth);
    }

    pub(super) fn close_list_item(&mut self) {
        self.open_list_items.pop();
    }

    /// Running text: a list item inside one, a paragraph otherwise.
    pub(super) fn push_text(&mut self, text: String) {
        let kind = match self.open_list_items.last() {
            Some(depth) => BlockKind::ListItem { depth: *depth },
            None => BlockKind::Paragraph,
        };
        self.push_block(kind, text);
    }

    pub(super) fn push_heading(&mut self, level: u8, text: String) {
        if text.is_empty() {
            return;
        }
        self.open_headings
            .retain(|(open_level, _)| *open_level < level);
        self.open_headings.push((level, text.clone()));
        self.push_block(BlockKind::Heading { level }, text);
    }

    pub(super) fn push_block(&mut self, kind: BlockKind, text: String) {
        if text.is_empty() {
            return;
        }
        let heading_path = self
            .open_headings
            .iter()
            .map(|(_, text)| text.clone())
            .collect();
        self.blocks.push(Block {
            kind,
            text,
            heading_path,
        });
    }
}

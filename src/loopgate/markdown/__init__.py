"""Markdown -> a small tree of sections, paragraphs and list items, each with its source line."""

from loopgate.markdown.document import Document, Item, ListBlock, Para, Section, parse_document

__all__ = ["Document", "Item", "ListBlock", "Para", "Section", "parse_document"]

"""Text that changes every step, rendered like ``solara.Markdown`` but updated in place.

``solara.Markdown`` keys its widget by a hash of the HTML, so new text means a new widget:
the server closes the old one and opens a new one carrying Solara's whole Markdown template
(its script included), and the browser mounts it again. For a title that names the month
that happens on every step, in every panel. :func:`MarkdownLine` writes the same HTML into
the same CSS classes, in one widget whose ``unsafe_innerHTML`` changes.

References
----------
Solara ``solara/components/markdown.py`` (the template and CSS classes copied here).
"""

from __future__ import annotations

import html
from typing import Any

import solara

#: The classes ``solara.Markdown`` gives its rendered text (its CSS applies to them).
MARKDOWN_CLASSES = ["solara-markdown", "rendered_html", "jp-RenderedHTMLCommon"]


def paragraph(text: str, bold: str = "") -> str:
    """``<p><strong>bold</strong>text</p>``, as Markdown renders ``**bold**text``."""
    head = f"<strong>{html.escape(bold, quote=False)}</strong>" if bold else ""
    return f"<p>{head}{html.escape(text, quote=False)}</p>"


def MarkdownLine(
    text: str, bold: str = "", style: str = "", classes: list[str] | None = None
) -> Any:
    """One paragraph (``**bold**`` then ``text``) looking as ``solara.Markdown`` draws it."""
    return solara.HTML(
        tag="div",
        unsafe_innerHTML=paragraph(text, bold),
        style=style or None,
        classes=[*MARKDOWN_CLASSES, *(classes or [])],
    )

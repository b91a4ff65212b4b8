"""A PDF read back as text, the way a reader's viewer copies it: PDFium's text layer.

PDFium (pypdfium2) is the engine of Chromium's viewer. It reads the fonts
WeasyPrint subsets with HarfBuzz (used whenever ``libharfbuzz-subset`` is
installed, as Debian's chromium package installs it) as well as those
subset with fontTools; pypdf reads the former as two bytes per character.
"""

from __future__ import annotations

import re

import pypdfium2


def pdf_text(pdf: bytes) -> str:
    """Every page's text, one line per line, runs of spaces (also no-break ones) single."""
    document = pypdfium2.PdfDocument(pdf)
    pages = []
    try:
        for page in document:
            text_page = page.get_textpage()
            pages.append(text_page.get_text_range())
            text_page.close()
            page.close()
    finally:
        document.close()
    text = "\n".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[ \u00a0\u202f]+", " ", text)

"""A :class:`~iotbill.entrypoints.render.documents.Document` as one HTML page.

The page carries its stylesheet inline and loads nothing: it can be mailed,
archived or served as it is, and it is what the PDF is printed from. Every
value is escaped (a customer named ``<b>`` shows as written).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from iotbill.entrypoints.render.documents import Document


def document_html(document: Document) -> str:
    """The document as a complete HTML page."""
    return _environment().get_template("document.html").render(doc=document, css=_css())


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("iotbill.entrypoints.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _css() -> Markup:
    """The stylesheet, ours and trusted: marked safe, as escaping it would turn its quotes
    into ``&#34;`` and void every rule that quotes (the fonts, the page numbers)."""
    return Markup((files("iotbill.entrypoints.render") / "templates" / "document.css").read_text())

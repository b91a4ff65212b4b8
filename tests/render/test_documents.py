"""Invoice and credit note documents: every figure of the JSON, in the customer's locale.

The PDFs are read back as text with PDFium (:mod:`tests.pdf_text`), the way a
reader's PDF viewer copies them, and every line, the tax and the totals of the invoice's JSON are
found in it, spelled by Babel for the customer's locale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_currency, format_decimal
from pypdf import PdfReader

from iotbill.domain.customers import Customer
from iotbill.domain.invoices import DocumentKind, Invoice, credit_line, issue_credit_note
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import currency
from iotbill.domain.periods import Period
from iotbill.entrypoints.render import (
    credit_note_document,
    document_html,
    document_pdf,
    invoice_document,
)
from iotbill.services.documents import CreditNoteSheet, InvoiceSheet
from iotbill.services.ports import Tenant
from tests.conftest import ROOT, run_iotbill
from tests.pdf_text import pdf_text

SELLER = Tenant("acme", "Acme IoT Ltd.")
JANUARY = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
ISSUED = datetime(2026, 2, 1, tzinfo=UTC)
ARTEFACTS = ROOT / "test-artefacts"
LOCALES = {"acme-water": "en_US", "stadtwerke-nord": "de_DE", "kobe-vending": "ja_JP"}


def plain(text: str) -> str:
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    result = run_iotbill("demo", "--database", str(database), "--json")
    assert result.exit_code == 0, result.stderr
    yield database, json.loads(result.stdout)


def test_every_line_tax_and_total_of_the_demo_invoices_is_in_their_pdf(
    demo: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    database, invoices = demo
    assert len(invoices) == 5
    for invoice in invoices:
        output = tmp_path / f"{invoice['number']}.pdf"
        written = run_iotbill(
            "invoices", "pdf", invoice["number"], "-o", str(output),
            "--database", str(database), "--tenant", "demo",
        )  # fmt: skip
        assert written.exit_code == 0, written.stderr
        text = pdf_text(output.read_bytes())
        lines = text.splitlines()
        locale, code = LOCALES[invoice["customer"]], invoice["currency"]

        def money(amount: str, locale: str = locale, code: str = code) -> str:
            return plain(format_currency(Decimal(amount), code, locale=locale))

        assert invoice["number"] in text
        for line in invoice["lines"]:
            # The line's row, however it wraps: description, quantity, unit price, amount.
            quantity = format_decimal(
                Decimal(line["quantity"]), locale=locale, decimal_quantization=False
            )
            unit_price = (
                []
                if line["unit_price"] is None
                else [
                    plain(
                        format_currency(
                            Decimal(line["unit_price"]), code, locale=locale,
                            decimal_quantization=False,
                        )
                    )
                ]
            )  # fmt: skip
            expected = " ".join([line["description"], quantity, *unit_price, money(line["amount"])])
            assert expected in " ".join(lines), (expected, text)
        assert f"Subtotal {money(invoice['subtotal'])}" in lines
        rate = plain(format_decimal(Decimal(invoice["tax"]["rate"]), locale=locale))
        (tax,) = [shown for shown in lines if shown.startswith("Tax (")]
        assert tax.startswith(f"Tax ({rate}") and tax.endswith(money(invoice["tax"]["amount"]))
        assert f"Total {money(invoice['total'])}" in lines
        assert f"Amount due {money(invoice['amount_due'])}" in lines


def test_the_demo_yen_invoice_reads_in_japanese_style_without_decimals(
    demo: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    database, _ = demo
    output = tmp_path / "kobe.pdf"
    assert run_iotbill(
        "invoices", "pdf", "INV-2026-000005", "-o", str(output),
        "--database", str(database), "--tenant", "demo",
    ).exit_code == 0  # fmt: skip
    lines = pdf_text(output.read_bytes()).splitlines()
    # 3,532 transactions: 500 at ¥3 and 3,032 at ¥2.5 (7,580), 1,500 + 7,580 = ¥9,080.
    assert "Transactions 3,532 ￥9,080" in lines
    assert "Tier 1 (0 to 500): 500 × ￥3 ￥1,500" in lines
    assert "Tier 2 (above 500): 3,032 × ￥2.5 ￥7,580" in lines
    # Subtotal 500 + 9,080 + 1,800 = 11,380; tax 10 % = 1,138; total 12,518.
    assert "Subtotal ￥11,380" in lines
    assert "Tax (10%) ￥1,138" in lines
    assert "Total ￥12,518" in lines
    assert "Period 2026/01/01 – 2026/01/31" in lines


def test_a_finalized_invoice_gives_the_same_pdf_bytes_every_time(
    demo: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    database, _ = demo
    files = [tmp_path / "first.pdf", tmp_path / "second.pdf"]
    for output in files:
        result = run_iotbill(
            "invoices", "pdf", "INV-2026-000001", "-o", str(output),
            "--database", str(database), "--tenant", "demo",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
    first, second = (output.read_bytes() for output in files)
    assert first == second
    metadata = PdfReader(BytesIO(first)).metadata
    assert metadata is not None
    assert metadata["/Title"] == "Invoice INV-2026-000001"
    assert metadata["/Author"] == "Demo IoT Co."
    assert metadata["/CreationDate"] == "D:20260201120000+00'00"  # when it was finalized
    assert "/ModDate" not in metadata


def _sheet(code: str, locale: str, exact: str, tax_rate: str) -> InvoiceSheet:
    money = currency(code)
    customer = Customer.create(
        id="gulf", name="Gulf <Pumps> & Co", currency_code=code, timezone="UTC",
        billing_address="Tower 3, Kuwait City", tax_rate=tax_rate, locale=locale,
    )  # fmt: skip
    line = InvoiceLine.rounded(
        money, charge="water", kind="usage", description="Water pumped",
        quantity=Decimal("1234.5675"), unit_price=Decimal(1), exact_amount=Decimal(exact),
    )  # fmt: skip
    invoice = Invoice.draft(
        id="inv-1", kind=DocumentKind.CLOSE, customer=customer, subscription_id=None,
        period=JANUARY,
        lines=[line], issued_at=ISSUED,
    ).finalize(number="INV-2026-000042", at=ISSUED)  # fmt: skip
    return InvoiceSheet(SELLER, customer, invoice, ())


def test_a_kwd_invoice_shows_three_decimals() -> None:
    # 1,234.5675 KWD rounds half up to 1,234.568; tax 5 % of it is 61.7284, rounded
    # 61.728; the total is 1,234.568 + 61.728 = 1,296.296.
    sheet = _sheet("KWD", "en_US", "1234.5675", "5")
    lines = pdf_text(document_pdf(invoice_document(sheet))).splitlines()
    assert "Water pumped 1,234.5675 KWD1.000 KWD1,234.568" in lines
    assert "Subtotal KWD1,234.568" in lines
    assert "Tax (5%) KWD61.728" in lines
    assert "Total KWD1,296.296" in lines
    assert "Amount due KWD1,296.296" in lines
    assert "Period Jan 1, 2026 – Jan 31, 2026" in lines


def test_a_jpy_invoice_shows_no_decimals() -> None:
    # ¥1,234.5 rounds half up to ¥1,235; tax 10 % is 123.5, rounded ¥124; total ¥1,359.
    sheet = _sheet("JPY", "en_US", "1234.5", "10")
    text = pdf_text(document_pdf(invoice_document(sheet)))
    lines = text.splitlines()
    assert "Water pumped 1,234.5675 ¥1 ¥1,235" in lines
    assert "Tax (10%) ¥124" in lines
    assert "Total ¥1,359" in lines
    assert not re.search(r"¥[\d,]*\.", text)


def test_names_are_escaped_in_the_html() -> None:
    page = document_html(invoice_document(_sheet("KWD", "ar_KW", "1", "0")))
    assert "Gulf &lt;Pumps&gt; &amp; Co" in page
    assert 'lang="ar-KW" dir="rtl"' in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]


def test_the_stylesheet_is_inline_as_written() -> None:
    # Escaped, its quotes became &#34; and voided the fonts and the page numbers.
    page = document_html(invoice_document(_sheet("KWD", "ar_KW", "1", "0")))
    style = page.split("<style>")[1].split("</style>")[0]
    assert 'font-family: "DejaVu Sans"' in style
    assert 'content: "Page " counter(page) " of " counter(pages)' in style
    assert "&#34;" not in style


def test_a_pdf_numbers_its_pages() -> None:
    pdf = document_pdf(invoice_document(_sheet("USD", "en_US", "1", "0")))
    assert "Page 1 of 1" in pdf_text(pdf)


def test_a_credit_note_document_shows_what_it_credits() -> None:
    sheet = _sheet("USD", "en_US", "200", "10")
    note, credited = issue_credit_note(
        sheet.invoice, id="CN-2026-000001", number="CN-2026-000001",
        lines=[credit_line(currency("USD"), amount=Decimal("50"), description="Leak credit")],
        reason="Leak on 2026-01-12", issued_at=datetime(2026, 2, 3, tzinfo=UTC),
    )  # fmt: skip
    lines = pdf_text(
        document_pdf(credit_note_document(CreditNoteSheet(SELLER, sheet.customer, note, credited)))
    ).splitlines()
    assert "Credits invoice INV-2026-000042" in lines
    assert "Reason Leak on 2026-01-12" in lines
    assert "Leak credit 1 $50.00 $50.00" in lines
    assert "Total credited $55.00" in lines  # 50 + 10 % tax
    invoice_lines = pdf_text(
        document_pdf(invoice_document(InvoiceSheet(SELLER, sheet.customer, credited, (note,))))
    ).splitlines()
    # 200 + 20 tax = 220, less the credit note's 55: 165 due.
    assert "Credit note CN-2026-000001 -$55.00" in invoice_lines
    assert "Amount due $165.00" in invoice_lines


def test_the_first_page_of_a_demo_invoice_as_a_picture(
    demo: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """docs/images/invoice-page.png, shown in the README, is the picture this test saves."""
    import pypdfium2

    database, _ = demo
    output = tmp_path / "INV-2026-000004.pdf"
    assert run_iotbill(
        "invoices", "pdf", "INV-2026-000004", "-o", str(output),
        "--database", str(database), "--tenant", "demo",
    ).exit_code == 0  # fmt: skip
    document = pypdfium2.PdfDocument(output.read_bytes())
    assert len(document) == 1
    picture = document[0].render(scale=1.1).to_pil()
    width, height = picture.size
    assert (width, height) == (655, 927)  # A4, 595 x 842 points, at 1.1 pixels a point
    ARTEFACTS.mkdir(exist_ok=True)
    picture.save(ARTEFACTS / "invoice-page.png", optimize=True)
    document.close()

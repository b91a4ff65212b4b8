"""A customer's locale and the document commands, as a user meets them."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_cli import Store, store
from tests.pdf_text import pdf_text

__all__ = ["store"]


def test_a_customer_is_added_with_a_locale_and_may_change_it(store: Store) -> None:
    store.ok(
        "customers", "add", "kobe", "--currency", "JPY", "--timezone", "Asia/Tokyo",
        "--locale", "ja_JP",
    )  # fmt: skip
    assert store.json("customers", "show", "kobe")["locale"] == "ja_JP"
    assert store.json("customers", "set-locale", "kobe", "en_US")["locale"] == "en_US"
    assert store.json("customers", "list")[0]["locale"] == "en_US"
    store.ok("customers", "add", "plain", "--currency", "USD", "--timezone", "UTC")
    assert store.json("customers", "show", "plain")["locale"] == "en"


def test_a_wrong_locale_is_refused_naming_the_flag_and_nothing_is_stored(store: Store) -> None:
    error = store.refused(
        2, "customers", "add", "kobe", "--currency", "JPY", "--timezone", "Asia/Tokyo",
        "--locale", "ja-JP",
    )  # fmt: skip
    assert "--locale: must be a locale like en, de_DE or zh_Hant_TW, not 'ja-JP'" in error
    error = store.refused(
        2, "customers", "add", "kobe", "--currency", "XXX", "--timezone", "Asia/Tokyo",
        "--locale", "xx_YY",
    )  # fmt: skip
    assert "--currency: unknown ISO 4217 currency code 'XXX'" in error
    assert "--locale: 'xx_YY' is not a locale iotbill can write documents in" in error
    assert store.json("customers", "list") == []
    store.ok("customers", "add", "kobe", "--currency", "JPY", "--timezone", "Asia/Tokyo")
    error = store.refused(2, "customers", "set-locale", "kobe", "qq_ZZ")
    assert "LOCALE: 'qq_ZZ' is not a locale iotbill can write documents in" in error
    assert store.json("customers", "show", "kobe")["locale"] == "en"
    store.refused(3, "customers", "set-locale", "nobody", "en_US")


def test_documents_of_unknown_invoices_are_not_found_and_bad_files_write_nothing(
    store: Store, tmp_path: Path
) -> None:
    assert "no invoice has the id or number 'INV-2026-000009'" in store.refused(
        3, "invoices", "pdf", "INV-2026-000009", "-o", str(tmp_path / "x.pdf")
    )
    store.refused(3, "credit-notes", "pdf", "CN-2026-000009", "-o", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_a_credit_note_and_its_invoice_as_files(tmp_path: Path) -> None:
    from tests.conftest import run_iotbill

    database = str(tmp_path / "demo.db")
    common = ("--database", database, "--tenant", "demo")
    assert run_iotbill("demo", "--database", database).exit_code == 0
    created = run_iotbill(
        "credit-notes", "create", "INV-2026-000002", "--amount", "100", "--reason",
        "Meter fault on pump-002", *common,
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    note = tmp_path / "cn.pdf"
    result = run_iotbill("credit-notes", "pdf", "CN-2026-000001", "-o", str(note), *common)
    assert result.exit_code == 0, result.stderr
    text = pdf_text(note.read_bytes())
    # $100.00 credited plus 8.25 % tax ($8.25): $108.25.
    assert "Credits invoice INV-2026-000002" in text
    assert "Total credited $108.25" in text
    page = tmp_path / "invoice.html"
    result = run_iotbill("invoices", "html", "INV-2026-000002", "-o", str(page), *common)
    assert result.exit_code == 0, result.stderr
    html = page.read_text()
    assert "Credit note CN-2026-000001" in html
    assert "Meter fault on pump-002" in html

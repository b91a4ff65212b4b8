"""The dashboard in a real browser: Debian's chromium, driven by Playwright.

The executable is ``IOTBILL_CHROMIUM`` (default ``/usr/bin/chromium``, the
Debian package ``.ci/run`` installs); Playwright downloads no browser. The demo
is served in this process (:mod:`tests.web.live`), its clock at 2026-02-01
12:00 UTC. Each page's numbers, as the browser shows them, are checked against
the API's, and each page is saved as a screenshot under
``test-artefacts/dashboard/`` (the README's dashboard picture is the overview's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.numbers import format_currency

from tests.conftest import ROOT
from tests.pdf_text import pdf_text
from tests.web.live import LiveDemo, live_demo

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path(os.environ.get("IOTBILL_CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "test-artefacts" / "dashboard"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDemo]:
    with live_demo(tmp_path_factory.mktemp("browser")) as served:
        yield served


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"no chromium at {CHROMIUM} (apt-get install chromium, or set IOTBILL_CHROMIUM)"
        if os.environ.get("IOTBILL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (IOTBILL_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def api(demo: LiveDemo) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=demo.url, headers={"Authorization": f"Bearer {demo.key}"}, timeout=60
    ) as client:
        yield client


def sign_in(page: Any, demo: LiveDemo) -> None:
    """Sign in through the form, as a person would."""
    page.goto(demo.url + "/app")
    assert page.url == demo.url + "/app/sign-in"
    page.fill("#key", demo.key)
    page.click("form.sign-in button[type=submit]")
    page.wait_for_url(demo.url + "/app")


@pytest.fixture
def page(chromium: Any, demo: LiveDemo) -> Iterator[Any]:
    """A page of a fresh browser context, signed in; failing on any script error."""
    context = chromium.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "response",
        lambda response: (
            response.status >= 400
            and not response.url.endswith("/favicon.ico")  # asked for by the PDF viewer
            and errors.append(f"{response.status} {response.url}")
        ),
    )
    sign_in(opened, demo)
    yield opened
    context.close()
    assert errors == []


def charts_drawn(page: Any) -> int:
    """Wait until Plotly has drawn every chart of the page; their number."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn === 'true')"
    )
    drawn = page.locator(".chart .main-svg").count()
    assert drawn >= page.locator(".chart").count()  # Plotly draws two layers per chart
    return int(page.locator(".chart").count())


def screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def texts(page: Any, selector: str) -> list[str]:
    return [re.sub(r"\s+", " ", text).strip() for text in page.locator(selector).all_inner_texts()]


def test_sign_in_keeps_the_key_out_of_urls_and_scripts(chromium: Any, demo: LiveDemo) -> None:
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    page.goto(demo.url + "/app")
    screenshot(page, "sign-in")
    sign_in(page, demo)
    (cookie,) = context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
        "iotbill_session",
        True,
        "Strict",
    )
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
    assert all(demo.key not in url for url in visited)
    page.click("form.sign-out button")
    page.wait_for_url(demo.url + "/app/sign-in")
    assert context.cookies() == []
    context.close()


def test_the_overview_shows_the_api_figures_in_charts(
    page: Any, api: httpx.Client, demo: LiveDemo
) -> None:
    expected = api.get("/v1/analytics/overview").json()
    assert charts_drawn(page) == 6  # revenue by month and by model, in three currencies
    for section in page.locator("section.currency").all():
        code = section.get_attribute("data-currency")
        assert section.locator("[data-figure-name=mrr]").inner_text() == next(
            row["amount"] for row in expected["mrr"] if row["currency"] == code
        )
        shown = [
            (row.get_attribute("data-state"), *texts(row, "td.number"))
            for row in section.locator("tr[data-state]").all()
        ]
        assert shown == [
            (row["state"], str(row["count"]), row["amount"])
            for row in expected["invoices"]
            if row["currency"] == code
        ]
    # docs/analytics.md, at 2026-02-01 12:00 UTC
    assert texts(page, "[data-figure-name=mrr]") == ["49.00", "500", "31.00"]
    assert texts(page, "tr[data-state=due] td.amount") == ["423.32", "12518", "1797.86"]
    # The revenue bars, read back from the chart Plotly drew.
    usd = page.locator("section[data-currency=USD] .chart[data-chart=revenue-by-month]")
    assert usd.evaluate("chart => chart.data[0].y") == [1660.84]
    screenshot(page, "overview")


def test_a_customer_with_its_invoices_and_usage(
    page: Any, api: httpx.Client, demo: LiveDemo
) -> None:
    page.click("header nav >> text=Customers")
    page.wait_for_url(demo.url + "/app/customers")
    listed = texts(page, "table.customers td:first-child")
    assert listed == [c["id"] for c in api.get("/v1/customers").json()["data"]]
    screenshot(page, "customers")
    page.click("a[href='/app/customers/stadtwerke-nord']")
    page.wait_for_url(demo.url + "/app/customers/stadtwerke-nord")
    invoices = api.get("/v1/invoices", params={"customer": "stadtwerke-nord"}).json()["data"]
    newest_first = list(reversed(invoices))
    assert texts(page, "td.invoice-number") == [i["number"] for i in newest_first]
    assert texts(page, "td.total") == [f"{i['total']} EUR" for i in newest_first]
    assert texts(page, "td.amount-due") == [f"{i['amount_due']} EUR" for i in newest_first]
    meters = api.get(
        "/v1/customers/stadtwerke-nord/usage", params={"from": "2026-01-01", "to": "2026-02-01"}
    ).json()["meters"]
    assert charts_drawn(page) == len(meters)
    screenshot(page, "customer")


def test_an_invoice_pdf_link_opens_the_invoice(
    page: Any, api: httpx.Client, demo: LiveDemo
) -> None:
    page.goto(demo.url + "/app/customers/acme-water")
    link = page.locator("a.pdf").last  # the oldest invoice: January's close
    href = link.get_attribute("href")
    with page.expect_response(demo.url + href) as answered:
        link.click()
    response = answered.value
    assert (response.status, response.headers["content-type"]) == (200, "application/pdf")
    invoice_id = href.removeprefix("/app/invoices/").removesuffix(".pdf")
    invoice = api.get(f"/v1/invoices/{invoice_id}").json()
    # The viewer holds the document; the same session fetches its bytes.
    pdf = page.context.request.get(demo.url + href).body()
    assert pdf == api.get(f"/v1/invoices/{invoice_id}.pdf").content
    text = pdf_text(pdf)
    assert invoice["number"] in text
    for label, amount in [("Total", invoice["total"]), ("Amount due", invoice["amount_due"])]:
        shown = format_currency(Decimal(amount), "USD", locale="en_US")  # 1764.30: $1,764.30
        assert f"{label} {shown}" in text.splitlines()
    screenshot(page, "invoice-pdf")


def test_the_usage_and_adoption_pages_draw_their_charts(
    page: Any, api: httpx.Client, demo: LiveDemo, tmp_path: Path
) -> None:
    page.click("header nav >> text=Usage")
    page.select_option("select[name=customer]", "kobe-vending")
    page.fill("input[name=from]", "2026-01-10")
    page.fill("input[name=to]", "2026-01-17")
    page.select_option("select[name=by]", "day")
    page.click("form.query button")
    page.wait_for_url(re.compile(r".*/app/usage\?customer=kobe-vending.*"))
    report = api.get(
        "/v1/customers/kobe-vending/usage",
        params={"from": "2026-01-10", "to": "2026-01-17", "by": "day"},
    ).json()
    assert charts_drawn(page) == len(report["meters"])
    first = report["meters"][0]["code"]
    drawn = page.locator(".chart").first.evaluate("chart => chart.data.map(line => line.y)")
    rows = [float(r["quantity"]) for r in report["rows"] if r["meter"] == first]
    assert sum(map(len, drawn)) == len(rows) == 7
    screenshot(page, "usage")

    network = tmp_path / "network.txt"
    network.write_text("a b\nb c\n")
    page.click("header nav >> text=Adoption")
    page.set_input_files("input[name=edges]", str(network))
    page.select_option("select[name=plan]", "pump-outcome")
    page.fill("input[name=seeds]", "a")
    page.fill("input[name=periods]", "4")
    page.fill("input[name=usage]", "water=100")
    page.click("form.adoption button")
    page.wait_for_selector("table.forecast")
    assert charts_drawn(page) == 2
    assert texts(page, "td.revenue") == ["81.00", "162.00", "243.00", "243.00"]
    screenshot(page, "adoption")

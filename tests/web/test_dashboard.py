"""The dashboard over HTTP: sign-in and sessions, and each page's figures against the API's.

The demo is served with its clock at 2026-02-01 12:00 UTC, so the overview's
figures are those worked out in docs/analytics.md.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from iotbill.adapters.clock import SystemClock
from iotbill.demo.scenario import TENANT
from iotbill.entrypoints.web.session import COOKIE
from iotbill.services.api_keys import list_keys, revoke_key
from tests.web.live import LiveDemo, live_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDemo]:
    with live_demo(tmp_path_factory.mktemp("dashboard")) as served:
        yield served


def signed_in(demo: LiveDemo, key: str | None = None) -> httpx.Client:
    browser = httpx.Client(base_url=demo.url, timeout=60)
    answer = browser.post("/app/sign-in", data={"key": key or demo.key})
    assert (answer.status_code, answer.headers["location"]) == (303, "/app")
    return browser


@pytest.fixture
def browser(demo: LiveDemo) -> Iterator[httpx.Client]:
    """A signed-in browser of the demo tenant (its key has billing:read)."""
    client = signed_in(demo)
    yield client
    client.close()


@pytest.fixture
def http(demo: LiveDemo) -> Iterator[httpx.Client]:
    """The API, with the same key."""
    with httpx.Client(
        base_url=demo.url, headers={"Authorization": f"Bearer {demo.key}"}, timeout=60
    ) as client:
        yield client


def figures(page: str, name: str) -> list[dict[str, Any]]:
    """The Plotly figures named ``name`` that the page hands to its charts."""
    return [
        json.loads(html.unescape(found))
        for found in re.findall(rf"data-chart=\"{name}\" data-figure='([^']*)'", page)
    ]


def cells(page: str, css_class: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", html.unescape(found)).strip()
        for found in re.findall(rf'<td class="[^"]*\b{css_class}\b[^"]*">(.*?)</td>', page, re.S)
    ]


def test_sign_in_gives_a_signed_http_only_strict_cookie_and_the_key_goes_in_no_url(
    demo: LiveDemo,
) -> None:
    browser = httpx.Client(base_url=demo.url)
    form = browser.get("/app/sign-in")
    assert form.status_code == 200
    assert 'method="post" action="/app/sign-in"' in form.text
    answer = browser.post("/app/sign-in", data={"key": demo.key})
    assert (answer.status_code, answer.headers["location"]) == (303, "/app")
    cookie = answer.headers["set-cookie"]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/app" in attributes
    assert "max-age=28800" in attributes  # 8 hours
    value = browser.cookies[COOKIE]
    key_id, secret = demo.key.removeprefix("iotbill_").split("_", 1)
    assert value.startswith(key_id + ".")
    assert secret not in value and demo.key not in value
    assert browser.get("/app").status_code == 200
    browser.close()


@pytest.mark.parametrize(
    "path",
    [
        "/app",
        "/app/customers",
        "/app/customers/acme-water",
        "/app/invoices/INV-2026-000001.pdf",
        "/app/usage",
        "/app/adoption",
    ],
)
def test_without_a_session_a_page_sends_the_browser_to_sign_in(demo: LiveDemo, path: str) -> None:
    answer = httpx.get(demo.url + path)
    assert (answer.status_code, answer.headers["location"]) == (303, "/app/sign-in")


def test_a_wrong_key_or_one_without_billing_read_is_refused_without_a_cookie(
    demo: LiveDemo,
) -> None:
    for key in ["", "iotbill_000000000000_wrong", demo.key + "x", demo.new_key("events:write")]:
        answer = httpx.post(demo.url + "/app/sign-in", data={"key": key})
        assert answer.status_code == 401, key
        assert "unknown, revoked, lacks the billing:read scope" in answer.text
        assert "set-cookie" not in answer.headers


def test_a_forged_or_expired_cookie_or_a_revoked_key_ends_the_session(demo: LiveDemo) -> None:
    key = demo.new_key("billing:read")
    browser = signed_in(demo, key)
    value = browser.cookies[COOKIE]
    key_id, expires, signature = value.split(".")
    for forged in [
        f"{key_id}.{int(expires) + 3600}.{signature}",  # stretched
        f"{key_id}.{expires}.{'0' * 64}",  # signed by someone else
        f"{key_id}.{expires}",  # malformed
    ]:
        other = httpx.Client(base_url=demo.url, cookies={COOKIE: forged})
        assert other.get("/app").status_code == 303, forged
        other.close()
    assert browser.get("/app").status_code == 200
    demo.clock.advance(timedelta(hours=8))
    try:
        assert browser.get("/app").status_code == 303  # expired
    finally:
        demo.clock.advance(-timedelta(hours=8))
    assert browser.get("/app").status_code == 200
    (stored,) = [
        k for k in list_keys(demo.uow_factory(TENANT.code)) if key.startswith(f"iotbill_{k.id}_")
    ]
    revoke_key(demo.uow_factory(TENANT.code), stored.id, clock=SystemClock())
    assert browser.get("/app").status_code == 303
    browser.close()


def test_signing_out_clears_the_cookie(demo: LiveDemo, browser: httpx.Client) -> None:
    answer = browser.post("/app/sign-out")
    assert (answer.status_code, answer.headers["location"]) == (303, "/app/sign-in")
    assert COOKIE not in browser.cookies
    assert browser.get("/app").status_code == 303
    browser.close()


def test_the_overview_shows_the_figures_of_the_analytics_api(
    demo: LiveDemo, browser: httpx.Client, http: httpx.Client
) -> None:
    page = browser.get("/app").text
    expected = http.get("/v1/analytics/overview").json()
    sections = dict(
        re.findall(r'<section class="currency" data-currency="(\w+)">(.*?)</section>', page, re.S)
    )
    assert sorted(sections) == ["EUR", "JPY", "USD"]
    # docs/analytics.md: MRR 31.00 USD, 49.00 EUR, 500 JPY; January's revenue 1,660.84 USD,
    # 355.73 EUR, 11,380 JPY; due: 2 USD invoices for 1,797.86, 2 EUR for 423.32, 1 JPY 12,518.
    mrr = {
        code: re.findall(r'data-figure-name="mrr">([^<]*)<', text)[0]
        for code, text in sections.items()
    }
    assert mrr == {"USD": "31.00", "EUR": "49.00", "JPY": "500"}
    assert mrr == {row["currency"]: row["amount"] for row in expected["mrr"]}
    standing = {
        code: re.findall(
            r'<tr data-state="(\w+)"><td>\w+</td><td class="number count">(\d+)</td>\s*'
            r'<td class="number amount">([^<]*)</td>',
            text,
        )
        for code, text in sections.items()
    }
    assert standing == {
        "USD": [("due", "2", "1797.86")],
        "EUR": [("due", "2", "423.32")],
        "JPY": [("due", "1", "12518")],
    }
    assert standing == {
        code: [
            (r["state"], str(r["count"]), r["amount"])
            for r in expected["invoices"]
            if r["currency"] == code
        ]
        for code in standing
    }
    for code, text in sections.items():
        (by_month,) = figures(text, "revenue-by-month")
        (by_model,) = figures(text, "revenue-by-model")
        months = [r for r in expected["revenue_by_month"] if r["currency"] == code]
        models = [r for r in expected["revenue_by_model"] if r["currency"] == code]
        assert by_month["data"][0]["x"] == [r["month"] for r in months] == ["2026-01"]
        assert by_month["data"][0]["y"] == [float(r["amount"]) for r in months]
        assert by_model["data"][0]["x"] == [r["model"] for r in models]
        assert by_model["data"][0]["y"] == [float(r["amount"]) for r in models]
    assert figures(sections["USD"], "revenue-by-month")[0]["data"][0]["y"] == [1660.84]
    assert figures(sections["JPY"], "revenue-by-model")[0]["data"][0]["x"] == ["pay_per_usage"]


def test_the_customers_page_lists_the_api_customers(
    demo: LiveDemo, browser: httpx.Client, http: httpx.Client
) -> None:
    page = browser.get("/app/customers").text
    listed = re.findall(r'<a href="/app/customers/([^"]+)">', page)
    assert listed == [c["id"] for c in http.get("/v1/customers").json()["data"]]
    assert listed == ["acme-water", "kobe-vending", "stadtwerke-nord"]
    assert "next-page" not in page and "first-page" not in page


def test_the_customers_page_reads_on_a_page_at_a_time(
    demo: LiveDemo, browser: httpx.Client
) -> None:
    first = browser.get("/app/customers", params={"limit": 2}).text
    assert re.findall(r'<a href="/app/customers/([^"]+)">', first) == ["acme-water", "kobe-vending"]
    (following,) = re.findall(r'<a class="next-page" href="([^"]+)">', first)
    assert following == "/app/customers?after=kobe-vending&amp;limit=2"
    second = browser.get("/app/customers", params={"after": "kobe-vending", "limit": 2}).text
    assert re.findall(r'<a href="/app/customers/([^"]+)">', second) == ["stadtwerke-nord"]
    assert "next-page" not in second and 'class="first-page" href="/app/customers"' in second
    refused = browser.get("/app/customers", params={"after": "~not base64!"})
    assert refused.status_code == 422 and "after" in refused.text


def test_a_customer_page_shows_its_invoices_devices_subscriptions_and_daily_usage(
    demo: LiveDemo, browser: httpx.Client, http: httpx.Client
) -> None:
    page = browser.get("/app/customers/acme-water").text
    invoices = http.get("/v1/invoices", params={"customer": "acme-water"}).json()["data"]
    newest_first = list(reversed(invoices))
    assert cells(page, "invoice-number") == [i["number"] for i in newest_first]
    assert cells(page, "total") == [f"{i['total']} USD" for i in newest_first]
    assert cells(page, "amount-due") == [f"{i['amount_due']} USD" for i in newest_first]
    assert cells(page, "total") == ["33.56 USD", "1764.30 USD"]  # docs/analytics.md
    # January in Chicago, first and last day, as the PDF words it: both invoices bill it.
    assert cells(page, "period") == ["Jan 1, 2026 – Jan 31, 2026"] * 2
    links = re.findall(r'<a class="pdf" href="([^"]+)">', page)
    assert links == [f"/app/invoices/{i['id']}.pdf" for i in newest_first]
    devices = http.get("/v1/devices", params={"customer": "acme-water"}).json()["data"]
    for device in devices:
        assert f"&amp;device={device['id']}&amp;" in page
    (subscription,) = http.get("/v1/subscriptions", params={"customer": "acme-water"}).json()[
        "data"
    ]
    assert f"<td>{subscription['id']}</td>" in page
    # Usage by default: the latest invoiced period (January, local days), one chart per meter.
    assert 'name="from" value="2026-01-01"' in page and 'name="to" value="2026-02-01"' in page
    report = http.get(
        "/v1/customers/acme-water/usage",
        params={"from": "2026-01-01", "to": "2026-02-01", "by": "day"},
    ).json()
    (chart,) = figures(page, "usage")
    (line,) = chart["data"]
    assert len(line["x"]) == 31
    assert line["y"] == [float(row["quantity"]) for row in report["rows"]]
    assert line["x"][0] == "2026-01-01T00:00:00-06:00"  # local midnight in Chicago


def test_the_pdf_link_gives_the_same_pdf_as_the_api(
    demo: LiveDemo, browser: httpx.Client, http: httpx.Client
) -> None:
    page = browser.get("/app/customers/stadtwerke-nord").text
    link = re.findall(r'<a class="pdf" href="([^"]+)">', page)[0]
    shown = browser.get(link)
    assert shown.headers["content-type"] == "application/pdf"
    invoice_id = link.removeprefix("/app/invoices/").removesuffix(".pdf")
    assert shown.content == http.get(f"/v1/invoices/{invoice_id}.pdf").content
    document = browser.get(f"/app/invoices/{invoice_id}.html")
    assert document.text == http.get(f"/v1/invoices/{invoice_id}.html").text


def test_an_unknown_customer_or_invoice_is_a_404_page(
    demo: LiveDemo, browser: httpx.Client
) -> None:
    for path in [
        "/app/customers/nobody",
        "/app/invoices/INV-2026-999999.pdf",
        "/app/customers/a%20b",
    ]:
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")


def test_the_usage_page_charts_a_device_by_hour_and_lists_every_bad_field(
    demo: LiveDemo, browser: httpx.Client, http: httpx.Client
) -> None:
    (device, *_) = http.get("/v1/devices", params={"customer": "kobe-vending"}).json()["data"]
    query = {
        "customer": "kobe-vending",
        "device": device["id"],
        "from": "2026-01-10",
        "to": "2026-01-11",
        "by": "hour",
    }
    page = browser.get("/app/usage", params=query).text
    report = http.get("/v1/customers/kobe-vending/usage", params=query).json()
    charted = figures(page, "usage")
    assert [chart["layout"]["yaxis"]["title"]["text"] for chart in charted] == [
        meter["code"] for meter in report["meters"]
    ]
    for chart, meter in zip(charted, report["meters"], strict=True):
        rows = [row for row in report["rows"] if row["meter"] == meter["code"]]
        assert sum(len(line["y"]) for line in chart["data"]) == len(rows)
        assert sum(sum(line["y"]) for line in chart["data"]) == pytest.approx(
            sum(float(row["quantity"]) for row in rows)
        )
    assert len(charted[0]["data"][0]["x"]) == 24  # the hours of 10 January in Tokyo

    bad = browser.get(
        "/app/usage", params={"customer": "kobe-vending", "from": "soon", "to": "2026-13-01"}
    )
    assert bad.status_code == 422
    assert re.findall(r"<li><code>(\w+)</code>", bad.text) == ["from", "to"]
    weekly = browser.get("/app/usage", params={"customer": "kobe-vending", "by": "week"})
    assert weekly.status_code == 422
    assert weekly.headers["content-type"].startswith("text/html")
    assert "<li><code>query.by</code>: Input should be &#39;hour&#39;, &#39;day&#39;" in weekly.text
    unknown = browser.get(
        "/app/usage", params={"customer": "nobody", "from": "2026-01-01", "to": "2026-02-01"}
    )
    assert unknown.status_code == 422
    assert "<li><code>customer</code>: unknown customer &#39;nobody&#39;" in unknown.text


def test_the_usage_form_lists_a_few_customers_and_has_more_typed(
    demo: LiveDemo, browser: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form reads one page of customers: the demo's three are listed to choose from;
    past the page's size (two here), the id is typed and the first two are suggested."""
    listed = browser.get("/app/usage").text
    assert re.findall(r'<option value="([^"]*)"', listed) == [
        "", "acme-water", "kobe-vending", "stadtwerke-nord",
    ]  # fmt: skip
    assert '<select name="customer">' in listed
    monkeypatch.setattr("iotbill.entrypoints.web.usage.CHOICES", 2)
    typed = browser.get("/app/usage", params={"customer": "stadtwerke-nord"}).text
    assert '<select name="customer">' not in typed
    assert '<input name="customer" value="stadtwerke-nord" list="customer-ids"' in typed
    assert re.findall(r'<option value="([^"]+)"', typed) == ["acme-water", "kobe-vending"]


ADOPTION = {
    "plan": "pump-outcome",
    "seeds": "a",
    "threshold": "1/2",
    "periods": "4",
    "rounds_per_period": "1",
    "churn": "0",
    "usage": "water=100",
    "runs": "1",
    "seed": "7",
}


def test_the_adoption_page_forecasts_a_path_exactly(demo: LiveDemo, browser: httpx.Client) -> None:
    assert browser.get("/app/adoption").status_code == 200
    answer = browser.post(
        "/app/adoption", data=ADOPTION, files={"edges": ("path.txt", b"a b\nb c\n")}
    )
    assert answer.status_code == 200, answer.text
    # Path a - b - c at q = 1/2 from a: b adopts in period 2, c in period 3. Each adopter pays
    # 31.00 a month and 100 m3 x 0.50 = 50.00 of water: 81.00 a period.
    assert cells(answer.text, "revenue") == ["81.00", "162.00", "243.00", "243.00"]
    assert cells(answer.text, "total") == ["729.00"]
    (adopters,) = figures(answer.text, "adopters")
    assert adopters["data"][1]["y"] == [1, 2, 3, 3]
    assert adopters["data"][0]["y"] == [1, 1, 1, 0]
    (revenue,) = figures(answer.text, "revenue")
    assert revenue["data"][2]["y"] == [81.0, 162.0, 243.0, 243.0]


def test_the_adoption_page_lists_every_bad_field_at_once(
    demo: LiveDemo, browser: httpx.Client
) -> None:
    wrong = {
        **ADOPTION,
        "plan": "no-such-plan",
        "threshold": "3/2",
        "periods": "0",
        "churn": "x",
        "usage": "water",
        "runs": "100000",
        "seeds": "",
    }
    answer = browser.post("/app/adoption", data=wrong, files={"edges": ("e.txt", b"")})
    assert answer.status_code == 422
    assert re.findall(r"<li><code>(\w+)</code>", answer.text) == [
        "plan",
        "threshold",
        "periods",
        "churn",
        "runs",
        "usage",
        "seeds",
        "edges",
    ]
    unknown_seed = browser.post(
        "/app/adoption", data={**ADOPTION, "seeds": "z"}, files={"edges": ("e.txt", b"a b\n")}
    )
    assert unknown_seed.status_code == 422
    assert "<code>seeds</code>" in unknown_seed.text


def test_static_files_and_plotly_are_served_by_the_dashboard_itself(
    demo: LiveDemo, tmp_path: Path, browser: httpx.Client
) -> None:
    page = browser.get("/app").text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["/app/static/plotly.min.js", "/app/static/charts.js"]
    assert all(
        not src.startswith(("http:", "https:", "//"))
        for src in re.findall(r'(?:src|href)="([^"]+)"', page)
    )
    library = httpx.get(demo.url + scripts[0])
    assert library.status_code == 200
    assert b"plotly.js" in library.content[:2000]

"""docs/devices.md, followed step by step: from a device's credential to its first invoice
line, with mosquitto_pub and with paho-mqtt."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.mqtt.conftest import TENANT, World

EVENTS = [
    {"id": "evt-1", "type": "pump.flow", "device": "pump-001",
     "timestamp": "2026-01-09T12:00:00Z", "properties": {"m3": 40}},
    {"id": "evt-2", "type": "pump.flow", "device": "pump-001",
     "timestamp": "2026-01-19T12:00:00Z", "properties": {"m3": 70}},
]  # fmt: skip


def test_from_credential_to_the_first_invoice_line(world: World) -> None:
    mosquitto_pub = shutil.which("mosquitto_pub")
    if mosquitto_pub is None:
        pytest.skip("mosquitto_pub is not installed (apt-get install mosquitto-clients)")
    scope = ("--tenant", TENANT)
    world.iotbill("plans", "apply", str(ROOT / "examples" / "pump-outcome.yaml"), *scope)
    world.iotbill("customers", "add", "water-co", "--currency", "USD", "--timezone", "UTC", *scope)
    world.iotbill("devices", "add", "pump-001", "--customer", "water-co", "--from", "2026-01-01",
                  *scope)  # fmt: skip
    world.iotbill("subscriptions", "create", "--customer", "water-co", "--plan", "pump-outcome",
                  "--start", "2026-01-01", *scope)  # fmt: skip
    secret = world.issue("pump-001")
    worker, _ = world.start_subscribed_worker()
    port = str(world.broker.device_port)
    for event in EVENTS:  # as in the docs: mosquitto_pub, MQTT 5, QoS 1
        subprocess.run(
            [mosquitto_pub, "-h", "127.0.0.1", "-p", port, "-V", "5", "-q", "1",
             "-u", "acme/pump-001", "-P", secret,
             "-t", "iotbill/acme/devices/pump-001/events",
             "-m", json.dumps(event)],
            check=True, timeout=30,
        )  # fmt: skip
    example = (ROOT / "docs" / "devices_publish.py").read_text()
    namespace = {"__name__": "devices_doc"}
    exec(compile(example, "docs/devices_publish.py", "exec"), namespace)
    rejected = namespace["publish"](  # type: ignore[operator]
        host="127.0.0.1", port=int(port), tenant=TENANT, device="pump-001", secret=secret,
        event={"id": "evt-3", "type": "pump.flow", "device": "pump-001",
               "timestamp": "2026-01-29T12:00:00Z", "properties": {"m3": 2.5}},
    )  # fmt: skip
    assert rejected is None
    assert world.wait_for_stored(3) == ["evt-1", "evt-2", "evt-3"]
    world.stop_worker(worker)

    world.iotbill("bill-run", "--as-of", "2026-02-01T00:00:00Z", *scope)
    shown = json.loads(
        world.iotbill("invoices", "show", "INV-2026-000002", *scope, "--json").stdout
    )
    water = shown["lines"][0]
    assert (water["description"], water["quantity"], water["amount"]) == (
        "Water pumped (m³)",
        "112.5",  # 40 + 70 + 2.5
        "53.75",  # 100 x 0.50 + 12.5 x 0.30
    )
    assert shown["total"] == "84.75"  # with the next month's 31.00 in advance

"""The ingest worker: bad messages rejected with a reason on the rejected topic, never
stopping the worker; two workers on a shared subscription store every event once."""

from __future__ import annotations

import json
import urllib.request

from tests.mqtt.conftest import TENANT, World, event, wait_until


def test_bad_messages_are_rejected_with_their_reason_and_the_worker_goes_on(world: World) -> None:
    world.add_device("pump-2")
    device = world.connect("pump-1")
    device.subscribe(f"iotbill/{TENANT}/devices/pump-1/rejected")
    worker, said = world.start_subscribed_worker(
        "w1", "--metrics-port", "0", "--max-payload", "2000"
    )
    topic = f"iotbill/{TENANT}/devices/pump-1/events"
    device.publish_many(
        [
            (topic, b"{not json"),
            (topic, json.dumps({"id": "s1", "device": "pump-1"}).encode()),
            (topic, b'{"id": "big", "padding": "' + b"x" * 3000 + b'"}'),
            (topic, event("other", "pump-2")),
            (topic, event("good", "pump-1")),
            (topic, event("early", "pump-1", at="2025-06-01T00:00:00Z")),
        ]
    )
    assert world.wait_for_stored(1) == ["good"]
    assert wait_until(lambda: len(device.received) == 5)
    rejected = [(found, json.loads(body)) for found, body in device.received]
    assert {found for found, _ in rejected} == {f"iotbill/{TENANT}/devices/pump-1/rejected"}
    assert [(body["id"], body["reason"]) for _, body in rejected] == [
        (None, "not valid JSON: object keys must be strings at byte 2"),
        (None, "type: is required"),
        (None, "payload: 3028 bytes, more than the 2000 allowed"),
        (
            "other",
            "device: the event names device 'pump-2', but was published on the topic of"
            " device 'pump-1' (a device reports only for itself)",
        ),
        (
            "early",
            "timestamp: device 'pump-1' had no owner at 2025-06-01T00:00:00+00:00 (its first"
            " owner starts at 2026-01-01T00:00:00+00:00)",
        ),
    ]
    port = _metrics_port(said)
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    assert "iotbill_mqtt_ingest_received_total 6\n" in metrics
    assert "iotbill_mqtt_ingest_stored_total 1\n" in metrics
    assert "iotbill_mqtt_ingest_rejected_total 5\n" in metrics
    assert "iotbill_mqtt_ingest_lag_seconds 0.000\n" in metrics

    device.publish_many([(topic, event("after", "pump-1"))])  # the worker goes on
    assert world.wait_for_stored(2) == ["after", "good"]
    counts = world.stop_worker(worker)
    assert "7 received, 2 stored, 0 duplicates, 5 rejected" in counts


def _metrics_port(said: list[str]) -> int:
    [line] = [line for line in said if "metrics on http://127.0.0.1:" in line]
    return int(line.rsplit(":", 1)[1].split("/")[0])


def test_two_workers_on_a_shared_subscription_store_every_event_once(world: World) -> None:
    devices = {name: world.connect(name) for name in (f"pump-{n}" for n in range(4))}
    (first, _), (second, _) = (
        world.start_subscribed_worker("w1"),
        world.start_subscribed_worker("w2"),
    )
    for name, device in devices.items():
        topic = f"iotbill/{TENANT}/devices/{name}/events"
        device.publish_many([(topic, event(f"{name}-{n:03}", name)) for n in range(200)])
    stored = world.wait_for_stored(800)
    counts = [world.stop_worker(worker) for worker in (first, second)]
    print(*counts, sep="")
    assert len(stored) == len(set(stored)) == 800
    taken = [int(c.split("stopped: ")[1].split(" received")[0]) for c in counts]
    assert sum(taken) == 800 and min(taken) > 0, taken  # both took a share, none twice

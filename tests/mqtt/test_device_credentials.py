"""Each device has its own credential, enforced by the broker; its events reach the store."""

from __future__ import annotations

import json
import time

from tests.mqtt.conftest import TENANT, Device, World, event, wait_until

SUCCESS = 0
NO_SUBSCRIBERS = 16
NOT_AUTHORIZED = 135


def test_a_device_publishing_with_its_credential_is_stored(world: World) -> None:
    world.add_device("pump-1")
    secret = world.issue("pump-1")
    worker = world.start_worker()
    device = Device(world.broker.device_port, f"{TENANT}/pump-1", secret)
    try:
        topic = f"iotbill/{TENANT}/devices/pump-1/events"
        # Published until the worker's subscription is in place (then: success, not 16).
        assert wait_until(lambda: device.publish(topic, event("probe", "pump-1")).value == SUCCESS)
        assert (
            device.publish(f"iotbill/{TENANT}/devices/pump-1/events", event("e1", "pump-1")).value
            == SUCCESS
        )
        assert world.wait_for_stored(2) == ["e1", "probe"]
    finally:
        device.close()
    counts = world.stop_worker(worker)
    assert "2 stored, 0 duplicates, 0 rejected" in counts


def test_the_broker_refuses_another_devices_topic_and_a_revoked_credential(world: World) -> None:
    world.add_device("pump-1")
    world.add_device("pump-2")
    secret = world.issue("pump-1")
    world.issue("pump-2")
    device = Device(world.broker.device_port, f"{TENANT}/pump-1", secret)
    try:
        reason = device.publish(f"iotbill/{TENANT}/devices/pump-2/events", event("x", "pump-2"))
        assert reason.value == NOT_AUTHORIZED
        assert device.publish(f"iotbill/{TENANT}/devices/pump-1/events", event("y", "pump-1")
                              ).value in (SUCCESS, NO_SUBSCRIBERS)  # fmt: skip
    finally:
        device.close()
    assert Device(world.broker.device_port, f"{TENANT}/pump-1", "a guess").refused is not None

    result = world.iotbill("devices", "credentials", "revoke", "pump-1", "--tenant", TENANT,
                           "--broker-dir", str(world.directory))  # fmt: skip
    assert "reloaded" in result.stderr
    time.sleep(0.5)  # the broker rereads its files on SIGHUP, between two network loops
    refused = Device(world.broker.device_port, f"{TENANT}/pump-1", secret).refused
    assert refused is not None and refused.value == NOT_AUTHORIZED
    listed = json.loads(world.iotbill("devices", "credentials", "list", "--tenant", TENANT,
                                      "--json").stdout)  # fmt: skip
    assert [(c["device"], c["revoked_at"] is not None) for c in listed] == [
        ("pump-1", True),
        ("pump-2", False),
    ]
    assert "secret" not in listed[0]

"""Credential hashes as Mosquitto reads them, topics, and the worker's metrics text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from iotbill.adapters.mqtt import BrokerAddress, IngestMetrics
from iotbill.domain.device_credentials import (
    hash_secret,
    parse_events_topic,
    secret_matches,
    topic_name_problem,
)
from iotbill.domain.errors import InvalidInput
from iotbill.services.ports import BatchReport, MessageRejection


def test_a_hash_made_by_mosquitto_passwd_is_one_iotbill_reads_and_the_reverse(
    tmp_path: Path,
) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    passwords = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwords), "acme/pump-1", "s3cret"], check=True)
    made_by_mosquitto = passwords.read_text().strip().split(":", 1)[1]
    assert made_by_mosquitto.startswith("$7$101$")
    assert secret_matches("s3cret", made_by_mosquitto)
    assert not secret_matches("s3cret!", made_by_mosquitto)
    salt = bytes(range(12))
    assert hash_secret("s3cret", salt=salt) == (
        "$7$101$AAECAwQFBgcICQoL$" + hash_secret("s3cret", salt=salt).rsplit("$", 1)[1]
    )


def test_topics_and_names() -> None:
    assert parse_events_topic("iotbill/acme/devices/p1/events") == ("acme", "p1")
    assert parse_events_topic("iotbill/acme/devices/p1/rejected") is None
    assert parse_events_topic("iotbill/acme/devices/p1/events/x") is None
    assert parse_events_topic("other/acme/devices/p1/events") is None
    assert topic_name_problem("device", "pump-1.a_b") is None
    for bad in ("a/b", "a+", "#", "a:b", "a\tb"):
        problem = topic_name_problem("device", bad)
        assert problem is not None and problem.location == "device"
    dollar = topic_name_problem("tenant", "$SYS")
    assert dollar is not None and "reserves" in dollar.message


def test_broker_addresses() -> None:
    assert BrokerAddress.parse("mqtt://broker.example:1884") == BrokerAddress(
        "broker.example", 1884
    )
    assert BrokerAddress.parse("mqtt://u:p@h").port == 1883
    assert BrokerAddress.parse("mqtt://u:p@h", password="q") == BrokerAddress("h", 1883, "u", "q")
    for bad in ("http://h:1", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(InvalidInput, match="broker"):
            BrokerAddress.parse(bad)


def test_metrics_in_prometheus_text() -> None:
    metrics = IngestMetrics()
    for at in (10.0, 10.5, 11.0):
        metrics.arrived(at)
    rejection = MessageRejection(2, "acme", "p1", None, "payload: too big")
    metrics.committed(BatchReport(stored=1, duplicates=0, rejected=[rejection]), 2, 11.0)
    text = metrics.render(now=13.25)
    assert "iotbill_mqtt_ingest_received_total 3\n" in text
    assert "iotbill_mqtt_ingest_stored_total 1\n" in text
    assert "iotbill_mqtt_ingest_rejected_total 1\n" in text
    assert "iotbill_mqtt_ingest_pending 1\n" in text
    assert "# TYPE iotbill_mqtt_ingest_lag_seconds gauge\n" in text
    assert "iotbill_mqtt_ingest_lag_seconds 2.250\n" in text  # 13.25 - 11.0, the oldest waiting

"""Publish one usage event as a device, with paho-mqtt 2 (pip install paho-mqtt).

The device connects with its own credential (MQTT 5), listens on its rejected
topic, publishes with QoS 1 and waits for the broker's acknowledgement. An
acknowledgement with reason code 16 (no matching subscribers: no ingest worker
was subscribed, e.g. just after a broker restart) means nobody received it:
the event is published again a moment later (its id makes that safe). It
returns iotbill's rejection of the event, if one comes within
``wait_for_rejection`` seconds, else ``None``.
"""

import json
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def publish(host, port, tenant, device, secret, event, wait_for_rejection=2.0):
    base = f"iotbill/{tenant}/devices/{device}"
    rejection, subscribed, connected = {}, threading.Event(), threading.Event()
    acks = {}

    def on_message(client, userdata, message):
        body = json.loads(message.payload)
        if body.get("id") == event["id"]:
            rejection.update(body)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
    client.username_pw_set(f"{tenant}/{device}", secret)
    client.on_connect = lambda client, userdata, flags, reason, props: connected.set()
    client.on_subscribe = lambda client, userdata, mid, reasons, props: subscribed.set()
    client.on_message = on_message
    client.on_publish = lambda client, userdata, mid, reason, props: acks.update({mid: reason})
    client.connect(host, port)
    client.loop_start()
    try:
        if not connected.wait(10):
            raise TimeoutError("no answer from the broker")
        client.subscribe(f"{base}/rejected", qos=1)
        subscribed.wait(10)
        for _ in range(30):
            info = client.publish(f"{base}/events", json.dumps(event), qos=1)
            info.wait_for_publish(timeout=10)
            while info.mid not in acks:
                threading.Event().wait(0.01)
            if acks[info.mid].value != 16:  # 0: an ingest worker will have it
                break
            threading.Event().wait(1)  # 16: no worker subscribed yet: again, same id
        threading.Event().wait(wait_for_rejection)
    finally:
        client.disconnect()
        client.loop_stop()
    return rejection or None

"""Publish one usage event as a device, with paho-mqtt 2 (pip install paho-mqtt).

The device connects with its own credential (MQTT 5), listens on its rejected
topic, publishes with QoS 1 and waits for the broker's acknowledgement. It
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

    def on_message(client, userdata, message):
        body = json.loads(message.payload)
        if body.get("id") == event["id"]:
            rejection.update(body)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
    client.username_pw_set(f"{tenant}/{device}", secret)
    client.on_connect = lambda client, userdata, flags, reason, props: connected.set()
    client.on_subscribe = lambda client, userdata, mid, reasons, props: subscribed.set()
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    try:
        if not connected.wait(10):
            raise TimeoutError("no answer from the broker")
        client.subscribe(f"{base}/rejected", qos=1)
        subscribed.wait(10)
        info = client.publish(f"{base}/events", json.dumps(event), qos=1)
        info.wait_for_publish(timeout=10)  # the broker has it: it will reach iotbill
        threading.Event().wait(wait_for_rejection)
    finally:
        client.disconnect()
        client.loop_stop()
    return rejection or None

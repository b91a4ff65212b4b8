"""``iotbill devices credentials issue|revoke|list``, ``iotbill mqtt broker-config|broker-files``
and ``iotbill mqtt-ingest``: devices on MQTT.

The broker enforces the credentials from files iotbill writes
(:mod:`iotbill.adapters.mqtt_broker`): give ``--broker-dir`` (or
``IOTBILL_MQTT_BROKER_DIR``) to issue and revoke, and the files are rewritten
and the broker reloaded in the same command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.session import DatabaseOption, session, store_group

if TYPE_CHECKING:
    from iotbill.services.ports import UnitOfWorkFactory

credentials_app = store_group(
    help="Devices' MQTT credentials: shown once, stored hashed, enforced by the broker."
)
mqtt_app = store_group(help="The MQTT broker's configuration for iotbill.", json_output=False)

BrokerDirOption = Annotated[
    Path | None,
    typer.Option(
        "--broker-dir",
        envvar="IOTBILL_MQTT_BROKER_DIR",
        help="The broker's iotbill files (see mqtt broker-config): rewritten, and the broker"
        " reloaded, after the change.",
    ),
]


def register(app: typer.Typer, devices_app: typer.Typer) -> None:
    """Add ``devices credentials``, ``mqtt`` and ``mqtt-ingest``."""
    devices_app.add_typer(credentials_app, name="credentials")
    app.add_typer(mqtt_app, name="mqtt")
    app.command("mqtt-ingest")(mqtt_ingest_command)


@credentials_app.command("issue")
def issue_command(
    device: Annotated[str, typer.Argument(help="Device id.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Revoke the device's active credential first.")
    ] = False,
    broker_dir: BrokerDirOption = None,
) -> None:
    """Give a device its MQTT username and secret. The secret is shown now and never again.

    Exit codes: 0 ok, 2 a tenant or device id that cannot be a topic level,
    3 unknown device, 4 the device has an active credential (use --replace).
    """
    from iotbill.services.device_credentials import issue_credential

    current = session()
    tenant = current.tenant
    issued = issue_credential(current.uow(), device, at=current.now(), replace=replace)
    reloaded = _update_broker(current.uow_factory, tenant, broker_dir)
    credential = issued.credential
    from iotbill.domain.device_credentials import events_topic, rejected_topic

    shown = {
        "device": credential.device_id,
        "username": credential.username,
        "secret": issued.secret,
        "publish_to": events_topic(tenant, device),
        "rejections_on": rejected_topic(tenant, device),
        "issued_at": credential.issued_at.isoformat(),
    }
    current.emit(
        shown,
        f"issued a credential to device {device}\n"
        f"  username:   {shown['username']}\n"
        f"  secret:     {issued.secret}   (shown once: store it on the device now)\n"
        f"  publish to: {shown['publish_to']}\n"
        f"  rejections: {shown['rejections_on']}",
    )
    _say_reloaded(reloaded, broker_dir)


@credentials_app.command("revoke")
def revoke_command(
    device: Annotated[str, typer.Argument(help="Device id.")],
    broker_dir: BrokerDirOption = None,
) -> None:
    """Revoke a device's credential: once the broker reloads, it can no longer connect.

    Exit codes: 0 ok, 3 the device has no active credential.
    """
    from iotbill.services.device_credentials import revoke_credential

    current = session()
    revoked = revoke_credential(current.uow(), device, at=current.now())
    reloaded = _update_broker(current.uow_factory, current.tenant, broker_dir)
    current.emit(
        _credential_json(revoked),
        f"revoked the credential of device {device} ({revoked.username})",
    )
    _say_reloaded(reloaded, broker_dir)


@credentials_app.command("list")
def list_command(
    active: Annotated[bool, typer.Option("--active", help="Only those not revoked.")] = False,
) -> None:
    """List the tenant's device credentials (never a secret)."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.device_credentials import list_credentials

    current = session()
    found = list_credentials(current.uow(), active_only=active)
    shown = table("Device credentials", "Device", "Username", "Issued", "Revoked")
    for credential in found:
        revoked = credential.revoked_at
        shown.add_row(
            credential.device_id,
            credential.username,
            credential.issued_at.isoformat(),
            "-" if revoked is None else revoked.isoformat(),
        )
    current.emit([_credential_json(c) for c in found], lambda: print_table(shown))


@mqtt_app.command("broker-config")
def broker_config_command(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the broker's files.")],
    device_port: Annotated[int, typer.Option(help="Port devices connect to.")] = 1883,
    device_bind: Annotated[
        str | None, typer.Option(help="Address devices connect to (default: all).")
    ] = None,
    worker_port: Annotated[int, typer.Option(help="Port ingest workers connect to.")] = 1884,
    worker_bind: Annotated[
        str, typer.Option(help="Address of the workers' listener: keep it private.")
    ] = "127.0.0.1",
    worker_passwords: Annotated[
        Path | None,
        typer.Option(help="A mosquitto_passwd file for the workers (default: no password)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Account the broker runs as, when started as root.")
    ] = None,
) -> None:
    """Write mosquitto.conf, the workers' ACL and the devices' password and ACL files.

    Start the broker with `mosquitto -c DIR/mosquitto.conf`.
    """
    from iotbill.adapters.mqtt_broker import BrokerFiles, Listener, broker_config

    files = BrokerFiles(directory)
    config = broker_config(
        directory,
        devices=Listener(device_port, device_bind),
        workers=Listener(worker_port, worker_bind),
        worker_passwords=worker_passwords,
        user=user,
    )
    files.write_config(config, worker_passwords=worker_passwords is not None)
    current = session()
    reloaded = _update_broker(current.uow_factory, current.tenant, directory)
    typer.echo(f"wrote {directory / 'mosquitto.conf'}: start the broker with it")
    _say_reloaded(reloaded, directory)


@mqtt_app.command("broker-files")
def broker_files_command(
    directory: Annotated[Path, typer.Option("--dir", help="The broker's iotbill files.")],
) -> None:
    """Rewrite the devices' password and ACL files from the store and reload the broker."""
    current = session()
    reloaded = _update_broker(current.uow_factory, current.tenant, directory)
    typer.echo(f"wrote the device credentials into {directory}")
    _say_reloaded(reloaded, directory)


def _update_broker(open_uow: UnitOfWorkFactory, tenant: str, directory: Path | None) -> int | None:
    """Rewrite the broker's credential files (when there is a directory) and reload it."""
    if directory is None:
        return None
    from iotbill.adapters.mqtt_broker import BrokerFiles
    from iotbill.services.device_credentials import broker_credentials

    files = BrokerFiles(directory)
    files.write_credentials(broker_credentials(open_uow, tenant))
    return files.reload()


def _say_reloaded(pid: int | None, directory: Path | None) -> None:
    if directory is None:
        typer.echo(
            "the broker does not know yet: run `iotbill mqtt broker-files --dir DIR`"
            " (or give --broker-dir)",
            err=True,
        )
    elif pid is None:
        typer.echo(
            f"wrote {directory}; no running broker found in {directory / 'mosquitto.pid'}:"
            " reload it (systemctl reload mosquitto, or kill -HUP its pid)",
            err=True,
        )
    else:
        typer.echo(f"broker (pid {pid}) reloaded", err=True)


def _credential_json(credential: object) -> dict[str, object]:
    from iotbill.domain.device_credentials import DeviceCredential

    assert isinstance(credential, DeviceCredential)
    return {
        "device": credential.device_id,
        "username": credential.username,
        "issued_at": credential.issued_at.isoformat(),
        "revoked_at": None if credential.revoked_at is None else credential.revoked_at.isoformat(),
    }


def mqtt_ingest_command(
    broker: Annotated[
        str, typer.Option("--broker", envvar="IOTBILL_MQTT_BROKER", help="mqtt://host:port")
    ],
    username: Annotated[
        str | None, typer.Option(envvar="IOTBILL_MQTT_USERNAME", help="The worker's username.")
    ] = None,
    password: Annotated[
        str | None, typer.Option(envvar="IOTBILL_MQTT_PASSWORD", help="The worker's password.")
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            help="This worker's id, the same at every restart so the broker resends what it"
            " did not acknowledge (default: iotbill-ingest-HOSTNAME); each worker its own.",
        ),
    ] = None,
    group: Annotated[str, typer.Option(help="The shared subscription's group.")] = "iotbill-ingest",
    batch_size: Annotated[
        int, typer.Option(min=1, help="Messages per transaction, at most.")
    ] = 1000,
    linger_ms: Annotated[
        int, typer.Option(min=0, help="How long a batch waits to fill, after its first message.")
    ] = 50,
    max_payload: Annotated[
        int, typer.Option(min=1, help="Bytes a message may have; larger ones are rejected.")
    ] = 64 * 1024,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve GET /metrics (Prometheus text) on this port.")
    ] = None,
    metrics_bind: Annotated[
        str, typer.Option(help="Address of the metrics endpoint.")
    ] = "127.0.0.1",
    database: DatabaseOption = None,
) -> None:
    """Store the usage events devices publish, every tenant's, until stopped (SIGTERM, Ctrl-C).

    Subscribes with QoS 1 to $share/GROUP/iotbill/+/devices/+/events and
    acknowledges each message after its batch is committed. Refused messages
    are reported, with the reason, on iotbill/TENANT/devices/DEVICE/rejected.
    """
    import logging
    import signal
    import socket
    from functools import partial

    from iotbill.adapters.event_files import decode_event
    from iotbill.adapters.mqtt import BrokerAddress, MqttIngestWorker, serve_metrics
    from iotbill.bootstrap import bootstrap, load_settings
    from iotbill.services.device_messages import store_messages

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("iotbill").setLevel(logging.INFO)
    address = BrokerAddress.parse(broker, username=username, password=password)
    wired = bootstrap(load_settings(database_url=database))
    store = partial(
        store_messages,
        wired.uow_factory,
        clock=wired.clock,
        decode=decode_event,
        max_payload=max_payload,
    )
    worker = MqttIngestWorker(
        store,
        address,
        client_id=client_id or f"iotbill-ingest-{socket.gethostname()}",
        group=group,
        batch_size=batch_size,
        linger=linger_ms / 1000,
    )
    server = None
    if metrics_port is not None:
        server = serve_metrics(worker.metrics, metrics_bind, metrics_port)
        host, port = server.server_address[:2]
        typer.echo(f"metrics on http://{host!s}:{port}/metrics", err=True)
    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, lambda number, frame: worker.stop())
    typer.echo(f"ingesting from {broker} as {worker.client_id} (group {group})", err=True)
    try:
        worker.run()
    finally:
        if server is not None:
            server.shutdown()
    from iotbill.entrypoints.cli.output import counted

    counts = worker.metrics.snapshot()
    typer.echo(
        f"stopped: {counts['received']:,} received, {counts['stored']:,} stored,"
        f" {counted(counts['duplicates'], 'duplicate')}, {counts['rejected']:,} rejected",
        err=True,
    )

"""What Mosquitto needs to enforce device credentials: its configuration, password and ACL files.

iotbill writes three files into one directory:

* ``mosquitto.conf``: two listeners with their own settings. The *device*
  listener admits only devices with an active credential (``devices.passwd``)
  and lets each publish only to its own events topic and read only its own
  rejections (``devices.acl``). The *worker* listener, bound to a loopback
  address by default, is where ``iotbill mqtt-ingest`` workers read every
  device's events and publish rejections (``workers.acl``).
* ``devices.passwd``: ``username:hash`` lines, the hashes as iotbill stores
  them (Mosquitto's ``$7$`` format), so no secret is ever written.
* ``devices.acl``: a ``user`` section per device.

Files are replaced atomically (written beside, then renamed), so the broker
never reads half a file. After a change the broker is told to reload
(``SIGHUP``) when ``mosquitto.pid`` in the directory names its process; else
whoever runs the broker reloads it (``systemctl reload mosquitto``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from iotbill.domain.device_credentials import TOPIC_ROOT, events_topic, rejected_topic
from iotbill.services.ports import BrokerCredential

CONFIG = "mosquitto.conf"
PASSWORDS = "devices.passwd"
DEVICE_ACL = "devices.acl"
WORKER_ACL = "workers.acl"
PID = "mosquitto.pid"


@dataclass(frozen=True, slots=True)
class Listener:
    """Where a listener accepts connections."""

    port: int
    bind: str | None = None

    def line(self) -> str:
        return f"listener {self.port}" + (f" {self.bind}" if self.bind else "")


def password_file(credentials: Sequence[BrokerCredential]) -> str:
    """The password file that admits exactly ``credentials``."""
    return "".join(f"{c.credential.username}:{c.credential.secret_hash}\n" for c in credentials)


def device_acl(credentials: Sequence[BrokerCredential]) -> str:
    """Each credential may publish its device's events and read its device's rejections."""
    sections = ["# Written by iotbill: each device publishes only its own events.\n"]
    for found in credentials:
        device = found.credential.device_id
        sections.append(
            f"\nuser {found.credential.username}\n"
            f"topic write {events_topic(found.tenant, device)}\n"
            f"topic read {rejected_topic(found.tenant, device)}\n"
        )
    return "".join(sections)


def worker_acl(*, with_passwords: bool = False) -> str:
    """Workers read every device's events and write every device's rejections: anonymous
    ones (``topic`` lines), or every user of the worker listener (``pattern`` lines)."""
    kind = "pattern" if with_passwords else "topic"
    return (
        "# Written by iotbill: ingest workers read all events and report rejections.\n"
        f"{kind} read {TOPIC_ROOT}/+/devices/+/events\n"
        f"{kind} write {TOPIC_ROOT}/+/devices/+/rejected\n"
    )


def broker_config(
    directory: Path,
    *,
    devices: Listener,
    workers: Listener,
    worker_passwords: Path | None = None,
    user: str | None = None,
) -> str:
    """A complete ``mosquitto.conf`` for iotbill, its files in ``directory``.

    The worker listener admits anyone who reaches it unless ``worker_passwords``
    (a file made with ``mosquitto_passwd``) is given: keep it on a loopback or
    private address, or give it passwords. ``user``: the account the broker runs as
    when started as root (Mosquitto's default is ``mosquitto``); it must read the files.
    """
    directory = directory.resolve()
    worker_auth = (
        f"allow_anonymous false\npassword_file {worker_passwords.resolve()}\n"
        if worker_passwords is not None
        else "allow_anonymous true\n"
    )
    return (
        "# Written by iotbill mqtt broker-config.\n"
        + (f"user {user}\n" if user else "")
        + "per_listener_settings true\n"
        "persistence true\n"
        f"persistence_location {directory}/\n"
        "autosave_interval 60\n"
        "max_queued_messages 1000000\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        "\n# Devices: each with its own credential, each on its own topic.\n"
        f"{devices.line()}\n"
        "allow_anonymous false\n"
        f"password_file {directory / PASSWORDS}\n"
        f"acl_file {directory / DEVICE_ACL}\n"
        "\n# Ingest workers.\n"
        f"{workers.line()}\n"
        f"{worker_auth}"
        f"acl_file {directory / WORKER_ACL}\n"
    )


class BrokerFiles:
    """The directory of iotbill's Mosquitto files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write_config(self, config: str, *, worker_passwords: bool = False) -> None:
        """Write ``mosquitto.conf`` (from :func:`broker_config`) and the workers' ACL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _replace(self.directory / CONFIG, config)
        _replace(self.directory / WORKER_ACL, worker_acl(with_passwords=worker_passwords))

    def write_credentials(self, credentials: Sequence[BrokerCredential]) -> None:
        """Replace the password and ACL files with exactly ``credentials``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _replace(self.directory / PASSWORDS, password_file(credentials))
        _replace(self.directory / DEVICE_ACL, device_acl(credentials))

    def reload(self) -> int | None:
        """Tell the broker whose pid ``mosquitto.pid`` holds to reload; its pid, or ``None``
        when there is no such file or process (then reload the broker yourself)."""
        try:
            pid = int((self.directory / PID).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            return None
        return pid


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the broker's user (it holds hashes
    only, never a secret)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.chmod(partial, 0o644)
    os.replace(partial, path)

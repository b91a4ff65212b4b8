"""Commands of iotbill adoption (being written)."""

from iotbill.entrypoints.cli.adoption import app  # noqa: F401

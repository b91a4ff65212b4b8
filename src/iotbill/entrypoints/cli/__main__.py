"""``python -m iotbill.entrypoints.cli``: the same as the ``iotbill`` command."""

from iotbill.entrypoints.cli import main

main()

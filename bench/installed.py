"""iotbill's modules compiled to bytecode, as an installed iotbill runs them.

pip compiles a package's modules when it installs it (the floors' pyarrow, numpy
and scipy are installed so), and an editable install compiles them on first
import, unless ``PYTHONDONTWRITEBYTECODE`` is set. A benchmark that times an
iotbill command as a process calls :func:`compile_iotbill` first: otherwise, in
an environment that sets that variable, each run compiles iotbill's source again
(about 0.1 s of ``iotbill preview``), a cost no installed iotbill pays.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import iotbill


def compile_iotbill() -> None:
    """Write the bytecode of every module of the iotbill these benchmarks run (into
    ``__pycache__`` folders, as Python does; they are ignored by git)."""
    compileall.compile_dir(Path(iotbill.__file__).parent, quiet=1)

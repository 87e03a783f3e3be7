"""pytest plugin: a chapter cell that writes to stderr fails its nbval test.

Loaded by ``make notebooks`` (``python -m pytest --nbval-lax -p
tests.clean_cells notebooks``). It reads the outputs nbval already collected
while executing each cell, so checking for a clean run costs no extra
execution of the chapters. Everything a learner would see as noise arrives on
stderr: TensorFlow's C++ log lines (Jupyter copies file descriptor 2 into the
cell), Python warnings and logging.
"""

from __future__ import annotations

import os
from queue import Empty

import pytest

#: Seconds to wait after a cell for stderr that the kernel forwards late (it
#: reads file descriptor 2 on a thread, after the cell has finished).
LATE = 0.3


def pytest_configure(config):
    # ipykernel does not forward file descriptor 2 (TensorFlow's C++ logs) to
    # the cell when it sees PYTEST_CURRENT_TEST in its environment; start
    # nbval's kernels without it, so they forward everything, as for a learner.
    from nbval import kernel

    start = kernel.start_new_kernel
    if getattr(start, "forwards_stderr", False):
        return

    def start_new_kernel(*args, **kwargs):
        kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
        return start(*args, **kwargs)

    start_new_kernel.forwards_stderr = True
    kernel.start_new_kernel = start_new_kernel


def late_stderr(item) -> str:
    """Stderr the kernel sent after nbval stopped listening to the cell."""
    get = getattr(item.parent, "get_kernel_message", None)
    text = ""
    while get is not None:
        try:
            msg = get(timeout=LATE)
        except Empty:
            break
        if msg["msg_type"] == "stream" and msg["content"].get("name") == "stderr":
            text += msg["content"]["text"]
    return text


def stderr_text(outputs: list) -> str:
    """The text a cell wrote to stderr, from nbval's collected outputs."""
    return "".join(
        o.get("text", "") for o in outputs or [] if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    noise = stderr_text(getattr(item, "test_outputs", None)) + late_stderr(item)
    if noise:
        source = getattr(getattr(item, "cell", None), "source", "")[:300]
        pytest.fail(f"{item.name} wrote to stderr (expected nothing):\n{noise[:2000]}\nin the cell:\n{source}",
                    pytrace=False)
    return result

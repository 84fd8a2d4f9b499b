"""Hides TensorFlow's native log lines from a process's standard error.

TensorFlow logs from C++ through absl, before absl is initialized, straight to file
descriptor 2, and `TF_CPP_MIN_LOG_LEVEL` does not silence those lines: every CPU machine gets a
CUDA "failed call to cuInit" error, and XLA, MLIR and the TFLite converter add their own.
`filter_native_logs` puts a pipe in front of descriptor 2 and forwards every line but those
(absl's `I0000 00:00:1796... 1234 file.cc:123] ...` lines and its "before
absl::InitializeLog()" notice, LiteRT's `INFO: ` lines, the converter's quantization
summary), so Python's own warnings and errors still show, in order. The `kgan` command starts
it unless `--verbose` is given.
"""

import atexit
import os
import re
import sys
import threading

# absl's prefix: severity letter, MMDD, time, thread id, file:line]
NATIVE_LINE = re.compile(rb"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]")
NOTICE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# The second line of TensorFlow's CPU feature notice, LiteRT's own log lines ("INFO: Created
# TensorFlow Lite XNNPACK delegate for CPU.") and the TFLite converter's quantization summary.
OTHER_PREFIXES = (b"To enable the following instructions:", b"INFO: ", b"fully_quantize: ")
_END = b"\x00kgan-native-log-filter-end\x00\n"
_filter = None


def is_native_line(line):
    """Whether a line of standard error (bytes) is one of TensorFlow's native log lines."""
    return bool(NATIVE_LINE.match(line)) or line.startswith((NOTICE, *OTHER_PREFIXES))


def _forward(read_end, out):
    """Copies lines from `read_end` to `out` until the end marker, dropping native lines."""
    pending = b""
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            line += b"\n"
            if line == _END:
                pending = b""
                return
            if not is_native_line(line):
                os.write(out, line)
    if pending and not is_native_line(pending):
        os.write(out, pending)


def filter_native_logs():
    """Starts forwarding descriptor 2 through the filter (once per process).

    Returns:
        True when the filter runs, False when descriptor 2 cannot be duplicated.
    """
    global _filter
    if _filter is not None:
        return True
    try:
        original = os.dup(2)
    except OSError:
        return False
    read_end, write_end = os.pipe()
    sys.stderr.flush()
    os.dup2(write_end, 2)
    thread = threading.Thread(
        target=_forward, args=(read_end, original), name="kgan-native-log-filter", daemon=True
    )
    thread.start()

    def stop():
        # Everything written so far is in the pipe ahead of the end marker; the filter forwards
        # it, then descriptor 2 goes back to the terminal.
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.write(write_end, _END)
        thread.join(timeout=10)
        os.dup2(original, 2)

    atexit.register(stop)
    _filter = thread
    return True

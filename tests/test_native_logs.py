import os
import subprocess
import sys
import threading

from kgan import native_logs

LINES = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796428255.025729    8019 cudart_stub.cc:31] Could not find cuda drivers\n",
    b"E0000 00:00:1796428260.789691    8019 cuda_platform.cc:52] failed call to cuInit: ...\n",
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild ...\n",
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32\n",
    b"kgan: error: a real message\n",
    b"UserWarning: I0000 in the middle is not a native line\n",
    b"INFO:absl:a Python logging line passes\n",
]


def test_native_lines_are_told_from_others():
    assert [native_logs.is_native_line(line) for line in LINES] == [True] * 6 + [False] * 3


def test_the_filter_forwards_other_lines_in_order_until_the_end_marker():
    read_end, write_end = os.pipe()
    out_read, out_write = os.pipe()
    thread = threading.Thread(target=native_logs._forward, args=(read_end, out_write))
    thread.start()
    for line in LINES:  # split across writes on purpose
        os.write(write_end, line[:7])
        os.write(write_end, line[7:])
    os.write(write_end, native_logs._END)
    thread.join(timeout=10)
    assert not thread.is_alive()
    os.close(out_write)
    assert os.read(out_read, 4096) == b"".join(LINES[6:])


def test_the_kgan_command_hides_tensorflows_native_lines_but_not_python_errors():
    script = (
        "import sys; sys.argv[0] = 'kgan'; import kgan, tensorflow as tf; "
        "tf.reduce_sum(tf.ones(3)).numpy(); print('kgan: error: shown', file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env)
    assert result.returncode == 0
    assert result.stderr.decode().splitlines() == ["kgan: error: shown"]

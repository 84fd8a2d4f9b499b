"""Times the README's main job on a fresh clone and scores the samples it trained.

Clones this repository into a temporary folder, runs `make demo` there (virtual environment,
install, 40 epochs of the default conditional GAN on mnist_5k, samples.png), then measures the
class consistency of the trained model: the share of 100 samples per digit that the reference
classifier (trained on the 4,000 training digits, checked on the 1,000 test digits) assigns to
the requested digit. Prints a table and writes JSON.

    python benchmarks/demo_job.py [--out benchmarks/results/demo_job.json] [--keep DIR]
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks/results/demo_job.json"))
    parser.add_argument("--keep", help="clone into this folder instead of a temporary one")
    args = parser.parse_args()

    import keras

    import kgan

    clone = args.keep or tempfile.mkdtemp(prefix="kgan-demo-")
    subprocess.run(["git", "clone", "-q", ROOT, clone], check=True)
    log_path = os.path.join(clone, "demo.log")
    start = time.perf_counter()
    with open(log_path, "w") as log:
        subprocess.run(
            ["make", "demo"], cwd=clone, stdout=log, stderr=subprocess.STDOUT, check=True
        )
    total_seconds = time.perf_counter() - start

    model = keras.saving.load_model(os.path.join(clone, "runs/cgan_mnist/model.keras"))
    classifier, classifier_accuracy = kgan.metrics.reference_classifier("mnist_5k")
    consistency = kgan.metrics.generated_class_consistency(model, classifier, num_per_class=100)
    result = {
        "command": "make demo (fresh clone)",
        "total_seconds": round(total_seconds, 1),
        "epochs": 40,
        "class_consistency": consistency,
        "classifier_test_accuracy": classifier_accuracy,
        "samples_png": os.path.exists(os.path.join(clone, "samples.png")),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "date": datetime.date.today().isoformat(),
        "python": sys.version.split()[0],
    }
    kgan.atomic.atomic_write_json(args.out, result)
    print(f"{'figure':<40}{'value':>12}{'target':>12}")
    print(f"{'make demo wall time (s)':<40}{total_seconds:>12.0f}{'< 600':>12}")
    print(f"{'class consistency of its samples':<40}{consistency:>12.3f}{'>= 0.90':>12}")
    print(f"{'reference classifier test accuracy':<40}{classifier_accuracy:>12.3f}{'':>12}")
    print(f"wrote {args.out}; the run is in {clone}")


if __name__ == "__main__":
    main()

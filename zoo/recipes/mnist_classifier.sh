#!/usr/bin/env bash
# Trains (or takes from the cache), measures and publishes the mnist_classifier preset: the
# reference classifier of kgan.metrics for mnist_5k (class consistency, domain FID features).
# KGAN_HOME names the classifier cache; a classifier of the current recipe found there is
# published as it is, otherwise one is trained (kgan.metrics.train_classifier, seed 0).
set -euo pipefail
export KGAN_HOME="${KGAN_HOME:-runs/cache}"
python - <<'PY'
import json, os
import kgan
from kgan.metrics.class_consistency import RECIPE_VERSION
classifier, accuracy = kgan.metrics.reference_classifier("mnist_5k", use_preset=False)
os.makedirs("runs/mnist_classifier", exist_ok=True)
classifier.save("runs/mnist_classifier/model.keras")
with open("runs/mnist_classifier/metrics.json", "w") as f:
    json.dump({"test_accuracy": accuracy, "recipe_version": RECIPE_VERSION}, f)
PY
kgan zoo publish runs/mnist_classifier/model.keras --name mnist_classifier --dataset mnist_5k \
    --recipe zoo/recipes/mnist_classifier.sh \
    --description "Reference CNN classifier of mnist_5k digits used by kgan.metrics (logits out, images in [-1, 1])" \
    --metrics runs/mnist_classifier/metrics.json \
    --metrics-command "python -c \"import kgan, numpy as np; m = kgan.zoo.load('mnist_classifier'); x, y = kgan.data.load_arrays('mnist_5k', split='test'); print(np.mean(m.predict(x, verbose=0).argmax(1) == y))\""

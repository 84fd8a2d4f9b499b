#!/usr/bin/env bash
# Fits, measures and publishes the gmm_digits preset. Run from the repository root with kgan
# installed (pip install -e .).
set -euo pipefail
python zoo/recipes/gmm_digits.py
kgan zoo publish runs/gmm_digits/gmm.npz --name gmm_digits --dataset digits \
    --recipe zoo/recipes/gmm_digits.sh \
    --description "Gaussian mixture, 10 full-covariance components, fitted by EM on the 64 pixels of scikit-learn's 8x8 digits" \
    --metrics runs/gmm_digits/metrics.json \
    --metrics-command "python zoo/recipes/gmm_digits.py"

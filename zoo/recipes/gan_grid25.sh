#!/usr/bin/env bash
# Trains, measures and publishes the gan_grid25 preset (the gan_r1 variant of the
# mode-coverage benchmark, seed 0). Run from the repository root with kgan installed.
set -euo pipefail
python benchmarks/mode_coverage.py --datasets grid25 --variants gan_r1 --seeds 0 \
    --save-models runs/toy --out runs/toy/grid25.json
kgan evaluate runs/toy/grid25_gan_r1_seed0.keras --data grid25 --metrics modes \
    --num-samples 2500 --seed 1000 --out runs/toy/gan_grid25_metrics.json
kgan zoo publish runs/toy/grid25_gan_r1_seed0.keras --name gan_grid25 --dataset grid25 \
    --recipe zoo/recipes/gan_grid25.sh \
    --description "Non-saturating GAN with an R1 penalty (gamma 0.1) on the 5x5 grid of Gaussians" \
    --metrics runs/toy/gan_grid25_metrics.json \
    --metrics-command "kgan evaluate gan_grid25 --data grid25 --metrics modes --num-samples 2500 --seed 1000"

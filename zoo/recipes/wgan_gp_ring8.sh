#!/usr/bin/env bash
# Trains, measures and publishes the wgan_gp_ring8 preset (the wgan_gp_toy variant of the
# mode-coverage benchmark, seed 0). Run from the repository root with kgan installed.
set -euo pipefail
python benchmarks/mode_coverage.py --datasets ring8 --variants wgan_gp_toy --seeds 0 \
    --save-models runs/toy --out runs/toy/ring8.json
kgan evaluate runs/toy/ring8_wgan_gp_toy_seed0.keras --data ring8 --metrics modes \
    --num-samples 2500 --seed 1000 --out runs/toy/wgan_gp_ring8_metrics.json
kgan zoo publish runs/toy/ring8_wgan_gp_toy_seed0.keras --name wgan_gp_ring8 --dataset ring8 \
    --recipe zoo/recipes/wgan_gp_ring8.sh \
    --description "WGAN-GP on the ring of 8 Gaussians (penalty 0.1, Adam 1e-3, cosine decay)" \
    --metrics runs/toy/wgan_gp_ring8_metrics.json \
    --metrics-command "kgan evaluate wgan_gp_ring8 --data ring8 --metrics modes --num-samples 2500 --seed 1000"

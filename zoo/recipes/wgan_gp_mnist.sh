#!/usr/bin/env bash
# Trains, measures and publishes the wgan_gp_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
set -euo pipefail
kgan train wgan_gp --data mnist_5k --epochs 30 --ema-decay 0.999 --seed 0 --out runs/wgan_gp_mnist --quiet
kgan evaluate runs/wgan_gp_mnist --data mnist_5k --metrics fid,kid,pr --num-samples 1000 --seed 0 \
    --out runs/wgan_gp_mnist/metrics.json
kgan zoo publish runs/wgan_gp_mnist --name wgan_gp_mnist --dataset mnist_5k --recipe zoo/recipes/wgan_gp_mnist.sh \
    --description "WGAN-GP on mnist_5k: Wasserstein critic, gradient penalty 10, 5 critic steps (generator EMA 0.999)" \
    --metrics runs/wgan_gp_mnist/metrics.json \
    --metrics-command "kgan evaluate wgan_gp_mnist --data mnist_5k --metrics fid,kid,pr --num-samples 1000 --seed 0"

#!/usr/bin/env bash
# Trains, measures and publishes the bigan_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
# BiGAN (Donahue et al. 2017) with the paper's MNIST latent size (50), Adam(2e-4, 0.5), a
# discriminator and encoder of width 16 (a preset under 8 MB); the
# preset keeps a 10-component Gaussian mixture of its encoder's features of mnist_5k, fitted by
# kgan cluster (--save-model), so cluster(x) works on load.
set -euo pipefail
kgan train bigan --data mnist_5k --epochs 30 --seed 0 --out runs/bigan_mnist --quiet --d-width 16 \
    --latent-dim 50 --option num_clusters=10
kgan cluster runs/bigan_mnist --data mnist_5k --one-nn --out runs/bigan_mnist/clusters \
    --save-model runs/bigan_mnist/clustered.keras
kgan zoo publish runs/bigan_mnist/clustered.keras --name bigan_mnist --dataset mnist_5k \
    --recipe zoo/recipes/bigan_mnist.sh \
    --description "BiGAN on mnist_5k without labels: encoder E learned adversarially with G (50-d codes), clusters from a 10-component Gaussian mixture of E's features" \
    --metrics runs/bigan_mnist/clusters/scores.json \
    --metrics-command "kgan cluster bigan_mnist --data mnist_5k --one-nn"

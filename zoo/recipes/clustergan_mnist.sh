#!/usr/bin/env bash
# Trains, measures and publishes the clustergan_mnist preset. Run from the repository root with
# kgan installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
# The paper's MNIST set-up (Mukherjee et al. 2019): noise 30 (sigma 0.1) + one-hot(10), WGAN-GP
# with 5 critic steps, beta_n = beta_c = 10, Adam(1e-4, 0, 0.9); an encoder of width 16 (a preset
# under 8 MB).
set -euo pipefail
kgan train clustergan --data mnist_5k --epochs 30 --seed 0 --out runs/clustergan_mnist --quiet \
    --loss wasserstein --gradient-penalty 10 --d-steps 5 --lr 1e-4 \
    --option noise_dim=30 --option num_clusters=10 --option sigma=0.1 --option e_width=16
kgan cluster runs/clustergan_mnist --data mnist_5k --one-nn --out runs/clustergan_mnist/clusters
kgan zoo publish runs/clustergan_mnist --name clustergan_mnist --dataset mnist_5k \
    --recipe zoo/recipes/clustergan_mnist.sh \
    --description "ClusterGAN on mnist_5k without labels: latent N(0, 0.1^2 I_30) + one-hot(10), encoder E inverts G; E's one-hot logits cluster the digits" \
    --metrics runs/clustergan_mnist/clusters/scores.json \
    --metrics-command "kgan cluster clustergan_mnist --data mnist_5k --one-nn"

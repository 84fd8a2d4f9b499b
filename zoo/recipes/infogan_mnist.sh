#!/usr/bin/env bash
# Trains, measures and publishes the infogan_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
# The paper's MNIST latent (Chen et al. 2016): 62 noise + Cat(10) + 2 x Unif(-1, 1), lambda 1;
# im_weight 1: Q also maximizes the information between real digits and its categories.
set -euo pipefail
kgan train infogan --data mnist_5k --epochs 40 --seed 0 --out runs/infogan_mnist --quiet \
    --option noise_dim=62 --option num_clusters=10 --option num_continuous=2 --option im_weight=1.0
kgan cluster runs/infogan_mnist --data mnist_5k --one-nn --out runs/infogan_mnist/clusters
kgan zoo publish runs/infogan_mnist --name infogan_mnist --dataset mnist_5k \
    --recipe zoo/recipes/infogan_mnist.sh \
    --description "InfoGAN on mnist_5k without labels: Cat(10) + 2 continuous codes, information maximization on real digits; Q's categories cluster the digits" \
    --metrics runs/infogan_mnist/clusters/scores.json \
    --metrics-command "kgan cluster infogan_mnist --data mnist_5k --one-nn"

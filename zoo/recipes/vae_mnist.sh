#!/usr/bin/env bash
# Trains, measures and publishes the vae_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
set -euo pipefail
kgan train vae --data mnist_5k --epochs 30 --seed 0 --out runs/vae_mnist --quiet --ex-post 10
kgan evaluate runs/vae_mnist --data mnist_5k --metrics fid,kid,pr,balance --num-samples 1000 --seed 0 \
    --out runs/vae_mnist/metrics.json
kgan zoo publish runs/vae_mnist --name vae_mnist --dataset mnist_5k --recipe zoo/recipes/vae_mnist.sh \
    --description "Convolutional VAE on mnist_5k: 16-d Gaussian posterior, N(0, I) prior, Bernoulli likelihood; samples drawn ex post (a 10-component mixture of the training codes)" \
    --metrics runs/vae_mnist/metrics.json \
    --metrics-command "kgan evaluate vae_mnist --data mnist_5k --metrics fid,kid,pr,balance --num-samples 1000 --seed 0"

#!/usr/bin/env bash
# Trains, measures and publishes the vaegan_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
set -euo pipefail
kgan train vaegan --data mnist_5k --epochs 20 --seed 0 --out runs/vaegan_mnist --quiet --ex-post 10
kgan evaluate runs/vaegan_mnist --data mnist_5k --metrics fid,kid,pr,balance --num-samples 1000 --seed 0 \
    --out runs/vaegan_mnist/metrics.json
kgan zoo publish runs/vaegan_mnist --name vaegan_mnist --dataset mnist_5k --recipe zoo/recipes/vaegan_mnist.sh \
    --description "VAE-GAN on mnist_5k (Larsen et al. 2016): reconstruction in discriminator features; samples drawn ex post (a 10-component mixture of the training codes)" \
    --metrics runs/vaegan_mnist/metrics.json \
    --metrics-command "kgan evaluate vaegan_mnist --data mnist_5k --metrics fid,kid,pr,balance --num-samples 1000 --seed 0"

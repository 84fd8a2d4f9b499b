#!/usr/bin/env bash
# Trains, measures and publishes the gan_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
set -euo pipefail
kgan train gan --data mnist_5k --epochs 400 --ema-decay 0.999 --lr-decay cosine --seed 0 \
    --out runs/gan_mnist --quiet
kgan evaluate runs/gan_mnist --data mnist_5k --metrics fid,kid,pr --num-samples 1000 --seed 0 \
    --out runs/gan_mnist/metrics.json
kgan zoo publish runs/gan_mnist --name gan_mnist --dataset mnist_5k --recipe zoo/recipes/gan_mnist.sh \
    --description "Unconditional DCGAN-style GAN on mnist_5k (400 epochs, cosine learning-rate decay, generator EMA 0.999)" \
    --metrics runs/gan_mnist/metrics.json \
    --metrics-command "kgan evaluate gan_mnist --data mnist_5k --metrics fid,kid,pr --num-samples 1000 --seed 0"

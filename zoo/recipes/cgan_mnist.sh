#!/usr/bin/env bash
# Trains, measures and publishes the cgan_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
set -euo pipefail
kgan train cgan --data mnist_5k --epochs 300 --ema-decay 0.999 --lr-decay cosine --seed 0 \
    --out runs/cgan_mnist --quiet
kgan evaluate runs/cgan_mnist --data mnist_5k --metrics fid,kid,pr,consistency --num-samples 1000 --seed 0 \
    --out runs/cgan_mnist/metrics.json
kgan zoo publish runs/cgan_mnist --name cgan_mnist --dataset mnist_5k --recipe zoo/recipes/cgan_mnist.sh \
    --description "Class-conditional DCGAN-style GAN on mnist_5k: any digit 0-9 on request (300 epochs, cosine learning-rate decay, generator EMA 0.999)" \
    --metrics runs/cgan_mnist/metrics.json \
    --metrics-command "kgan evaluate cgan_mnist --data mnist_5k --metrics fid,kid,pr,consistency --num-samples 1000 --seed 0"

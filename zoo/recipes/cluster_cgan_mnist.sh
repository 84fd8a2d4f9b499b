#!/usr/bin/env bash
# Trains, measures and publishes the cluster_cgan_mnist preset: an unconditional generator of
# mnist_5k digits that never sees a label. Run from the repository root with kgan installed
# (pip install -e .). Seeded: weights, data order and latents all come from --seed.
# Two stages, as in GANs trained on clusters instead of labels (Sage et al. 2018; Lucic et al.
# 2019; Liu et al. 2020): the infogan_mnist preset (trained without labels) assigns each
# training digit to one of its discovered categories, and a conditional GAN learns to draw each
# category, with cgan_mnist's recipe (300 epochs, cosine decay, generator EMA 0.999). Its
# "classes" are the discovered clusters; generate cycles through them.
set -euo pipefail
mkdir -p runs
kgan cluster infogan_mnist --data mnist_5k --split train --write-data runs/mnist_5k_clusters.npz
kgan train cgan --data runs/mnist_5k_clusters.npz --epochs 300 --ema-decay 0.999 \
    --lr-decay cosine --seed 0 --out runs/cluster_cgan_mnist --quiet
kgan evaluate runs/cluster_cgan_mnist --data mnist_5k --metrics fid,kid,pr,balance \
    --num-samples 1000 --seed 0 --out runs/cluster_cgan_mnist/metrics.json
kgan zoo publish runs/cluster_cgan_mnist --name cluster_cgan_mnist --dataset mnist_5k \
    --recipe zoo/recipes/cluster_cgan_mnist.sh \
    --description "Conditional DCGAN-style GAN on the categories that infogan_mnist discovered in mnist_5k: digits drawn without a single label (300 epochs, cosine learning-rate decay, generator EMA 0.999)" \
    --metrics runs/cluster_cgan_mnist/metrics.json \
    --metrics-command "kgan evaluate cluster_cgan_mnist --data mnist_5k --metrics fid,kid,pr,balance --num-samples 1000 --seed 0"

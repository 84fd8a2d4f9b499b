#!/usr/bin/env bash
# Trains, measures and publishes the infogan_mnist preset. Run from the repository root with kgan
# installed (pip install -e .). Seeded: weights, data order and latents all come from --seed.
# The paper's MNIST latent (Chen et al. 2016): 62 noise + Cat(10) + 2 x Unif(-1, 1), lambda 1.
# Q learns its categories from the real digits by self-augmented information maximization
# (IMSAT, Hu et al. 2017): confident, balanced categories (im_weight 0.1, im_balance 4) that a
# small rotation, scaling or shift does not change (consistency_weight 1); not from the
# generator's samples (sample_category_weight 0), while the generator learns to draw each of them.
# Q is a network of its own (share_body=False) with five categorical heads, each on a body of its
# own (separate_heads=True, width 32 each): five independent starts, the head in use being the one
# whose real-data terms are lowest. Learning rates decay along a cosine.
set -euo pipefail
kgan train infogan --data mnist_5k --epochs 40 --batch-size 256 --lr 1e-3 --lr-decay cosine \
    --seed 0 --out runs/infogan_mnist --quiet \
    --option noise_dim=62 --option num_clusters=10 --option num_continuous=2 \
    --option sample_category_weight=0.0 --option im_weight=0.1 --option im_balance=4.0 \
    --option consistency_weight=1.0 --option share_body=False --option q_width=32 \
    --option category_heads=5 --option separate_heads=True
kgan cluster runs/infogan_mnist --data mnist_5k --one-nn --out runs/infogan_mnist/clusters
kgan zoo publish runs/infogan_mnist --name infogan_mnist --dataset mnist_5k \
    --recipe zoo/recipes/infogan_mnist.sh \
    --description "InfoGAN on mnist_5k without labels: Cat(10) + 2 continuous codes; Q (its own network, five categorical heads with a body each), trained on real digits by self-augmented information maximization, clusters the digits" \
    --metrics runs/infogan_mnist/clusters/scores.json \
    --metrics-command "kgan cluster infogan_mnist --data mnist_5k --one-nn"

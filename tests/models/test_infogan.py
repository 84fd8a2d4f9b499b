import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute


def small(num_clusters=3, num_continuous=2, **options):
    return kgan.models.build_trainer(
        "infogan",
        (2,),
        num_clusters=num_clusters,
        num_continuous=num_continuous,
        noise_dim=2,
        width=16,
        seed=0,
        **options,
    )


def test_the_step_draws_noise_a_uniform_category_and_uniform_continuous_codes():
    model = small(num_clusters=4, num_continuous=2)
    latents = np.asarray(model._step_latents(distribute.ReplicaBatch(tf.constant(20000))))
    noise, onehot, continuous = (np.asarray(p) for p in model._split_latents(latents))
    assert latents.shape == (20000, 8)
    np.testing.assert_allclose(noise.std(axis=0), 1.0, rtol=0.03)
    np.testing.assert_array_equal(onehot.sum(axis=1), 1.0)
    np.testing.assert_allclose(onehot.mean(axis=0), 0.25, atol=0.015)
    assert continuous.min() >= -1.0 and continuous.max() < 1.0
    np.testing.assert_allclose(continuous.mean(axis=0), 0.0, atol=0.02)
    np.testing.assert_allclose(continuous.var(axis=0), 1 / 3, rtol=0.05)


def test_the_information_loss_is_cross_entropy_plus_half_the_squared_error():
    model = small()
    latents = model.cluster_latents(6, seed=1)
    x = model.generate(latents=latents)
    logits, predicted, features = (np.asarray(v, "float64") for v in model._read_codes(x))
    np.testing.assert_allclose(features, np.concatenate([logits, predicted], axis=1), rtol=1e-6)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    onehot, continuous = latents[:, 2:5], latents[:, 5:]
    expected = -np.mean(np.sum(onehot * log_softmax, axis=1)) + 0.5 * np.mean(
        np.sum((predicted - continuous) ** 2, axis=1)
    )
    got = float(model._information_loss(tf.constant(latents), tf.constant(x)))
    assert got == pytest.approx(expected, rel=1e-5)


def test_the_real_information_term_is_conditional_minus_marginal_entropy():
    model = small(im_weight=0.5)
    x = np.random.default_rng(0).standard_normal((8, 2)).astype("float32")
    logits = np.asarray(model._read_codes(x)[0], "float64")
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    conditional = -np.mean(np.sum(p * np.log(p), axis=1))
    marginal = -np.sum(p.mean(axis=0) * np.log(p.mean(axis=0)))
    got = float(model._real_data_loss(tf.constant(x))) / 0.5
    assert got == pytest.approx(conditional - marginal, rel=1e-4, abs=1e-6)
    # im_balance weighs the batch mean's entropy (IMSAT's mu).
    model.im_balance = 4.0
    balanced = float(model._real_data_loss(tf.constant(x)))
    assert balanced == pytest.approx(0.5 * (conditional - 4.0 * marginal), rel=1e-4, abs=1e-6)
    model.im_balance = 1.0
    latents = model.cluster_latents(8, seed=0)
    generated = model.generate(latents=latents)
    # Added to the discriminator's objective with its weight; absent at the default 0.
    with_im = float(model._extra_discriminator_loss(x, latents, generated))
    model.im_weight = 0.0
    without = float(model._extra_discriminator_loss(x, latents, generated))
    model.im_weight = 0.5
    assert with_im == pytest.approx(without + 0.5 * got, rel=1e-5)
    assert type(model).from_config(model.get_config()).im_weight == 0.5


def small_images(**options):
    return kgan.models.build_trainer(
        "infogan",
        (8, 8, 1),
        num_clusters=3,
        num_continuous=1,
        noise_dim=4,
        width=8,
        seed=0,
        **options,
    )


def softmax(logits):
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def test_the_consistency_term_is_the_kl_of_q_on_a_view_from_q_on_the_image(monkeypatch):
    model = small_images(consistency_weight=2.0)
    x = np.random.default_rng(1).uniform(-1, 1, (6, 8, 8, 1)).astype("float32")
    # The view is kgan.augment.affine's; a fixed transform (a flip) makes it checkable.
    seen = []

    def flip(images, seed=None):
        seen.append(seed)
        return images[:, ::-1]

    monkeypatch.setattr(kgan.augment, "affine", flip)
    p = softmax(np.asarray(model._read_codes(x)[0], "float64"))
    q = softmax(np.asarray(model._read_codes(x[:, ::-1])[0], "float64"))
    expected = 2.0 * np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))
    got = float(model._real_data_loss(tf.constant(x)))
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert seen and seen[0] is not None  # the model's own seed generator
    latents = model.cluster_latents(6, seed=0)
    generated = model.generate(latents=latents)
    with_terms = float(model._extra_discriminator_loss(x, latents, generated))
    model.consistency_weight = 0.0
    without = float(model._extra_discriminator_loss(x, latents, generated))
    assert with_terms == pytest.approx(without + got, rel=1e-5)
    restored = type(model).from_config(model.get_config())
    assert restored.consistency_weight == 0.0 and restored.im_balance == 1.0


def test_several_consistency_views_average_the_term_over_their_own_transforms(monkeypatch):
    model = small_images(consistency_weight=3.0, consistency_views=2)
    x = np.random.default_rng(4).uniform(-1, 1, (6, 8, 8, 1)).astype("float32")
    # Two fixed transforms in turn (flips about either axis) stand for two random draws; each
    # draw takes a seed of its own from the model's generator.
    seen = []

    def flip(images, seed=None):
        seen.append(seed)
        return images[:, ::-1] if len(seen) % 2 else images[:, :, ::-1]

    monkeypatch.setattr(kgan.augment, "affine", flip)

    def kl_to(view):
        p = softmax(np.asarray(model._read_codes(x)[0], "float64"))
        q = softmax(np.asarray(model._read_codes(view)[0], "float64"))
        return np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))

    expected = 3.0 * (kl_to(x[:, ::-1]) + kl_to(x[:, :, ::-1])) / 2
    assert kl_to(x[:, ::-1]) != pytest.approx(kl_to(x[:, :, ::-1]), rel=1e-3)
    got = float(model._real_data_loss(tf.constant(x)))
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert len(seen) == 2
    restored = type(model).from_config(model.get_config())
    assert restored.consistency_views == 2
    with pytest.raises(ValueError, match="consistency_views must be an int >= 1"):
        small_images(consistency_weight=1.0, consistency_views=0)
    with pytest.raises(ValueError, match="set consistency_weight > 0 too"):
        small_images(consistency_views=2)


def test_the_virtual_adversarial_term_is_the_kl_of_q_at_the_worst_nearby_point():
    model = small_images(vat_weight=3.0, vat_epsilon=0.2, share_body=False, q_width=4)
    x = tf.constant(np.random.default_rng(2).uniform(-1, 1, (16, 8, 8, 1)).astype("float32"))

    def log_q(images):
        logits = np.asarray(model._q_outputs(images, training=True)[0][:, 0], "float64")
        return np.log(softmax(logits))

    def divergences(images):
        p = log_q(x)
        return np.sum(np.exp(p) * (p - log_q(images)), axis=1)

    log_p = tf.nn.log_softmax(model._q_outputs(x, training=True)[0], axis=-1)
    r = np.asarray(model._adversarial_direction(x, log_p))
    # Each sample's perturbation has the asked size: 0.2 root mean square over its 64 values.
    np.testing.assert_allclose(np.sqrt(np.mean(r**2, axis=(1, 2, 3))), 0.2, rtol=1e-4)
    # It moves Q's categories more than random directions of the same size do.
    rng = np.random.default_rng(3)
    random = rng.normal(size=(8, *r.shape))
    random *= 0.2 * 8 / np.sqrt(np.sum(random**2, axis=(2, 3, 4), keepdims=True))
    random_kl = np.mean([divergences(x + d.astype("float32")) for d in random], axis=0)
    assert np.mean(divergences(x + r) > random_kl) > 0.9
    # The term is that divergence (for the direction the step draws), weighted.
    model.vat_weight = 0.0
    model.im_weight = 1e-9  # keeps the real-data terms on, with a negligible term of its own
    other = float(model._real_data_loss(x))
    model.vat_weight = 3.0
    state = model.seed_generator.state.numpy().copy()
    with_vat = float(model._real_data_loss(x))
    model.seed_generator.state.assign(state)
    r = model._adversarial_direction(x, log_p)
    expected = 3.0 * np.mean(divergences(x + r))
    assert with_vat - other == pytest.approx(expected, rel=1e-3, abs=1e-6)
    restored = type(model).from_config(model.get_config())
    assert (restored.vat_weight, restored.vat_epsilon) == (3.0, 0.2)


def test_sample_category_weight_scales_q_learning_the_generators_categories():
    model = small(sample_category_weight=0.0)
    latents = model.cluster_latents(8, seed=2)
    generated = model.generate(latents=latents)
    _, onehot, continuous = (np.asarray(v) for v in model._split_latents(latents))
    logits, predicted, _ = (np.asarray(v, "float64") for v in model._read_codes(generated))
    cross_entropy = -np.mean(np.sum(onehot * np.log(softmax(logits)), axis=1))
    squared = 0.5 * np.mean(np.sum((predicted - continuous) ** 2, axis=1))
    x = np.zeros((8, 2), "float32")
    # The discriminator's side keeps the continuous codes only; the generator's keeps both.
    d_side = float(model._extra_discriminator_loss(x, tf.constant(latents), generated))
    assert d_side == pytest.approx(squared, rel=1e-4)
    g_side = model._extra_generator_losses(tf.constant(latents), tf.constant(generated))
    assert float(g_side["info_loss"][1]) == pytest.approx(cross_entropy + squared, rel=1e-4)
    model.sample_category_weight = 0.5
    half = float(model._extra_discriminator_loss(x, tf.constant(latents), generated))
    assert half == pytest.approx(0.5 * cross_entropy + squared, rel=1e-4)
    assert type(model).from_config(model.get_config()).sample_category_weight == 0.5
    assert small().sample_category_weight is None


def test_real_data_terms_train_under_xla_and_move_q():
    model = small_images(im_weight=0.1, im_balance=4.0, consistency_weight=1.0, vat_weight=1.0)
    model.compile(jit_compile=True)
    before = [w.copy() for w in model.q_head.get_weights()]
    x = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    logs = model.fit(x, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][0]) and np.isfinite(logs["info_loss"][0])
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.q_head.get_weights()))


def test_q_of_its_own_reads_samples_and_shares_nothing_with_the_discriminator(tmp_path):
    model = small_images(share_body=False, q_width=4, im_weight=0.1, consistency_weight=1.0)
    assert tuple(model.q_head.inputs[0].shape[1:]) == (8, 8, 1)
    assert model.feature_layer is None
    d_ids = {id(v) for v in model.discriminator.weights}
    assert not d_ids & {id(v) for v in model._code_network_variables()}
    assert len(model._code_network_variables()) == len(model.q_head.weights)
    x = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    latents = tf.constant(model.cluster_latents(16, seed=1))

    def gradients(trainer):
        generated = trainer.generate(latents=latents)
        with tf.GradientTape() as tape:
            loss = trainer._extra_discriminator_loss(x, latents, generated)
        sources = trainer.discriminator.trainable_variables + trainer.q_head.trainable_variables
        grads = tape.gradient(loss, sources)
        n = len(trainer.discriminator.trainable_variables)
        return grads[:n], grads[n:]

    d_grads, q_grads = gradients(model)
    assert all(g is None for g in d_grads) and all(g is not None for g in q_grads)
    shared_d_grads, _ = gradients(small_images(im_weight=0.1, consistency_weight=1.0))
    assert any(g is not None for g in shared_d_grads)
    # It trains, clusters, and saves and loads with its own network.
    model.compile(jit_compile=True)
    before = [w.copy() for w in model.q_head.get_weights()]
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.q_head.get_weights()))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.share_body is False and loaded.feature_layer is None
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), atol=1e-6)
    np.testing.assert_array_equal(loaded.cluster(x), model.cluster(x))
    # encode gives the features Q's last layer reads: its 128-unit hidden layer.
    hidden = keras.Model(model.q_head.inputs, model.q_head.get_layer("hidden1_lrelu").output)
    np.testing.assert_allclose(model.encode(x), hidden(x), rtol=1e-5, atol=1e-6)
    assert model.encode(x).shape == (16, 128)
    logits = np.asarray(model.q_head(x))[:, :3]
    np.testing.assert_array_equal(model.cluster(x), logits.argmax(axis=1))
    vectors = small(share_body=False)
    assert vectors.encode(np.zeros((3, 2), "float32")).shape == (3, 128)


def test_several_category_heads_train_together_and_the_lowest_average_is_in_use(tmp_path):
    model = small(num_clusters=3, num_continuous=1, im_weight=0.5, category_heads=4)
    assert tuple(model.q_head.outputs[0].shape[1:]) == (4 * 3 + 1,)
    assert model.head_in_use() == 0
    # Large inputs make Q's categories far from uniform, so the terms are far from 0.
    x = 50 * np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    codes = np.asarray(model.encode(x), "float64")
    assert codes.shape == (16, 13)
    expected = []
    for h in range(4):
        p = softmax(codes[:, 3 * h : 3 * h + 3])
        conditional = -np.mean(np.sum(p * np.log(p), axis=1))
        marginal = -np.sum(p.mean(axis=0) * np.log(p.mean(axis=0)))
        expected.append(0.5 * (conditional - marginal))
    total = float(model._real_data_loss(tf.constant(x)))
    assert total == pytest.approx(sum(expected), rel=1e-4, abs=1e-6)
    # The moving average starts at 0 and moves 2% of the way per step.
    assert min(abs(e) for e in expected) > 1e-3
    np.testing.assert_allclose(model.head_losses.numpy(), 0.02 * np.array(expected), rtol=1e-3)
    model.head_losses.assign([0.5, 0.1, -1.0, 0.2])
    assert model.head_in_use() == 2
    np.testing.assert_allclose(model._read_codes(x)[0], codes[:, 6:9], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.cluster(x), codes[:, 6:9].argmax(axis=1))
    # The generator's categories are read with the head in use.
    latents = model.cluster_latents(8, seed=1)
    generated = model.generate(latents=latents)
    onehot = np.asarray(model._split_latents(latents)[1])
    logits = np.asarray(model.encode(generated), "float64")[:, 6:9]
    cross_entropy = -np.mean(np.sum(onehot * np.log(softmax(logits)), axis=1))
    categorical, _ = model._information_terms(tf.constant(latents), tf.constant(generated))
    assert float(categorical) == pytest.approx(cross_entropy, rel=1e-4)
    model.save(tmp_path / "heads.keras")
    loaded = keras.saving.load_model(tmp_path / "heads.keras")
    assert loaded.category_heads == 4 and loaded.head_in_use() == 2
    np.testing.assert_array_equal(loaded.cluster(x), model.cluster(x))
    # The exported cluster signature follows the head in use too.
    exported = kgan.export.tflite(model, tmp_path / "heads.tflite")
    assert exported.parity.errors["cluster"] == 0.0 and exported.parity.errors["encode"] < 1e-5
    # Training moves every head's average.
    model.compile(jit_compile=True)
    before = model.head_losses.numpy().copy()
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    assert np.all(model.head_losses.numpy() != before)
    with pytest.raises(ValueError, match="category_heads must be an int >= 1"):
        small(im_weight=0.5, category_heads=0)
    with pytest.raises(ValueError, match="set im_weight, consistency_weight or vat_weight too"):
        small(category_heads=2)


@pytest.mark.parametrize("continuous_body", [False, True])
def test_separate_heads_give_each_categorical_head_a_body_of_its_own(tmp_path, continuous_body):
    model = small_images(
        share_body=False,
        separate_heads=True,
        continuous_body=continuous_body,
        category_heads=3,
        q_width=2,
        im_weight=0.1,
        consistency_weight=1.0,
    )
    # Bodies of K, K and K + C codes (K, K, K and C with continuous_body), concatenated as
    # Q's usual [H K + C] output.
    assert tuple(model.q_head.outputs[0].shape[1:]) == (3 * 3 + 1,)
    bodies = 4 if continuous_body else 3
    x = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    with tf.GradientTape(persistent=True) as tape:
        logits, continuous, _ = model._q_outputs(tf.constant(x), training=False)
        heads = [logits[:, h] for h in range(3)]
    weights = model.q_head.trainable_weights

    def bodies_moving(output):
        grads = tape.gradient(output, weights)
        return {
            w.path.split("_")[0]
            for w, g in zip(weights, grads)
            if g is not None and np.any(g.numpy() != 0)
        }

    for h, head in enumerate(heads):
        assert bodies_moving(head) == {f"body{h + 1}"}
    assert bodies_moving(continuous) == {f"body{bodies}"}
    # encode: the bodies' 128-unit hidden layers side by side.
    assert model.encode(x).shape == (8, bodies * 128)
    model.compile(jit_compile=True)
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    model.head_losses.assign([0.5, -1.0, 0.2])
    model.save(tmp_path / "separate.keras")
    loaded = keras.saving.load_model(tmp_path / "separate.keras")
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), atol=1e-6)
    np.testing.assert_array_equal(loaded.cluster(x), np.asarray(logits[:, 1]).argmax(axis=1))


def test_separate_heads_options_are_checked():
    with pytest.raises(ValueError, match="set share_body=False too"):
        small_images(separate_heads=True, category_heads=2, im_weight=0.1)
    with pytest.raises(ValueError, match="separate_heads must be True or False; got 'yes'"):
        small_images(share_body=False, separate_heads="yes", category_heads=2, im_weight=0.1)
    with pytest.raises(ValueError, match="continuous_body must be True or False; got 1"):
        small_images(share_body=False, separate_heads=True, continuous_body=1, im_weight=0.1)
    with pytest.raises(ValueError, match="continuous_body=True .* set separate_heads=True"):
        small_images(share_body=False, continuous_body=True, category_heads=2, im_weight=0.1)


def test_codes_pick_what_is_generated_and_q_reads_them_back_after_training():
    model = small(num_clusters=4, num_continuous=1)
    optimizer = {"learning_rate": 1e-3, "beta_1": 0.5}
    model.compile(
        d_optimizer=keras.optimizers.Adam(**optimizer),
        g_optimizer=keras.optimizers.Adam(**optimizer),
        jit_compile=False,
    )
    q_before = [w.copy() for w in model.q_head.get_weights()]
    x, _ = kgan.data.load_arrays("ring8", num_examples=8192)
    logs = model.fit(x, batch_size=256, epochs=6, verbose=0).history
    assert set(logs) == {"d_loss", "g_loss", "info_loss"}
    assert logs["info_loss"][-1] < logs["info_loss"][0]
    assert not all(np.array_equal(a, b) for a, b in zip(q_before, model.q_head.get_weights()))
    # The mutual information is learned: Q gives back the category a sample was drawn with.
    clusters = np.repeat(np.arange(4), 100)
    drawn = model.generate(clusters=clusters, seed=0)
    assert np.mean(model.cluster(drawn) == clusters) >= 0.9
    same = model.generate(clusters=[1, 1], codes=[[0.5], [0.5]], seed=3)
    np.testing.assert_array_equal(
        same, model.generate(clusters=1, codes=[0.5], num_samples=2, seed=3)
    )


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="im_weight must be a float >= 0"):
        small(im_weight=-1.0)
    with pytest.raises(ValueError, match="im_balance must be a float >= 0"):
        small(im_balance=-1.0)
    with pytest.raises(ValueError, match="sample_category_weight must be a float >= 0"):
        small(sample_category_weight=-0.5)
    with pytest.raises(ValueError, match="consistency_weight transforms images"):
        small(consistency_weight=1.0)
    with pytest.raises(ValueError, match="vat_weight must be a float >= 0"):
        small(vat_weight=-1.0)
    with pytest.raises(ValueError, match="vat_epsilon must be > 0; got 0"):
        small(vat_weight=1.0, vat_epsilon=0)
    with pytest.raises(ValueError, match="drop pack"):
        small(pack=2)
    with pytest.raises(ValueError, match="noise_dim must be an int >= 1; got 0"):
        kgan.models.build_trainer("infogan", (2,), noise_dim=0)
    with pytest.raises(ValueError, match="info_weight must be a float >= 0"):
        small(info_weight=-1.0)
    model = small()
    wrong = kgan.networks.code_head(int(model.q_head.inputs[0].shape[-1]), 4)
    with pytest.raises(ValueError, match="num_clusters \\+ num_continuous = 5"):
        kgan.models.InfoGAN(model.generator, model.discriminator, wrong, num_clusters=3)
    with pytest.raises(ValueError, match="is not a layer of the discriminator"):
        kgan.models.InfoGAN(
            model.generator, model.discriminator, model.q_head, num_clusters=3, feature_layer="x"
        )
    with pytest.raises(ValueError, match="share_body must be True or False"):
        small(share_body="no")
    with pytest.raises(ValueError, match="leave it None with share_body=False"):
        small(share_body=False, feature_layer="features")
    with pytest.raises(ValueError, match=r"with share_body=False, q_head reads samples \(2,\)"):
        kgan.models.InfoGAN(
            model.generator, model.discriminator, model.q_head, num_clusters=3, share_body=False
        )
    clustergan = kgan.models.build_trainer("clustergan", (2,), num_clusters=3, width=8)
    with pytest.raises(ValueError, match="has no continuous codes"):
        clustergan.generate(clusters=[0], codes=[[0.0]])


def test_several_categorical_codes_are_drawn_read_and_numbered_as_one_cluster(tmp_path):
    model = small(num_clusters=3, num_continuous=1, categorical_codes=2, im_weight=0.5)
    assert (model.code_size, model.categorical_codes, model.num_clusters) == (3, 2, 9)
    assert model.noise_dim == 2 and model.latent_dim == 2 + 2 * 3 + 1
    assert tuple(model.q_head.outputs[0].shape[1:]) == (2 * 3 + 1,)
    # The step draws each code uniformly and independently of the other.
    latents = np.asarray(model._step_latents(distribute.ReplicaBatch(tf.constant(45000))))
    onehot = np.asarray(model._split_latents(latents)[1])
    np.testing.assert_array_equal(onehot[:, :3].sum(axis=1), 1.0)
    np.testing.assert_array_equal(onehot[:, 3:].sum(axis=1), 1.0)
    pairs = 3 * onehot[:, :3].argmax(axis=1) + onehot[:, 3:].argmax(axis=1)
    np.testing.assert_allclose(np.bincount(pairs, minlength=9) / 45000, 1 / 9, atol=0.006)
    # Cluster 5 is the pair of codes (1, 2).
    chosen = model.cluster_latents(clusters=[5, 0, 8], seed=0)
    np.testing.assert_array_equal(
        chosen[:, 2:8], [[0, 1, 0, 0, 0, 1], [1, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 1]]
    )
    # The information term is the sum of the codes' cross-entropies.
    latents = model.cluster_latents(12, seed=1)
    generated = model.generate(latents=latents)
    logits = np.asarray(model._read_codes(generated)[0], "float64")
    assert logits.shape == (12, 6)
    expected = -np.mean(
        np.sum(latents[:, 2:5] * np.log(softmax(logits[:, :3])), axis=1)
        + np.sum(latents[:, 5:8] * np.log(softmax(logits[:, 3:])), axis=1)
    )
    categorical, _ = model._information_terms(tf.constant(latents), tf.constant(generated))
    assert float(categorical) == pytest.approx(expected, rel=1e-4)
    # A data point's cluster numbers its codes' argmaxes; its probabilities are their product.
    x = 50 * np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    logits = np.asarray(model._read_codes(x)[0], "float64")
    clusters = model.cluster(x)
    np.testing.assert_array_equal(clusters, 3 * logits[:, :3].argmax(1) + logits[:, 3:].argmax(1))
    assert len(set(clusters)) > 1
    joint = softmax(logits[:, :3])[:, :, None] * softmax(logits[:, 3:])[:, None, :]
    probabilities = model.cluster_probabilities(x)
    np.testing.assert_allclose(probabilities, joint.reshape(16, 9), rtol=1e-6)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), clusters)
    # The real-data terms are summed over the codes.
    expected = 0.0
    for p in (softmax(logits[:, :3]), softmax(logits[:, 3:])):
        marginal = p.mean(axis=0)
        expected += 0.5 * (
            -np.mean(np.sum(p * np.log(p), axis=1)) + np.sum(marginal * np.log(marginal))
        )
    total = float(model._real_data_loss(tf.constant(x)))
    assert total == pytest.approx(expected, rel=1e-4, abs=1e-6)
    # Saved, loaded and exported with its codes.
    model.save(tmp_path / "codes.keras")
    loaded = keras.saving.load_model(tmp_path / "codes.keras")
    assert (loaded.code_size, loaded.categorical_codes, loaded.num_clusters) == (3, 2, 9)
    np.testing.assert_array_equal(loaded.cluster(x), clusters)
    exported = kgan.export.tflite(model, tmp_path / "codes.tflite")
    assert exported.parity.errors["cluster"] == 0.0
    # Separate bodies: one per code.
    images = small_images(share_body=False, separate_heads=True, categorical_codes=3)
    bodies = [layer.name for layer in images.q_head.layers if layer.name.endswith("_code")]
    assert len(bodies) == 3 and images.num_clusters == 27
    with pytest.raises(ValueError, match="categorical_codes must be an int >= 1; got 0"):
        small(categorical_codes=0)
    with pytest.raises(ValueError, match="with categorical_codes=2 leave it at 1"):
        small(categorical_codes=2, category_heads=2, im_weight=0.5)
    plain = small()  # latents of 2 + 3 + 2: no room for two codes of 3
    with pytest.raises(ValueError, match="got 3 times categorical_codes=2"):
        kgan.models.InfoGAN(
            plain.generator, plain.discriminator, plain.q_head, num_clusters=3, categorical_codes=2
        )

import json
import sys

import keras
import numpy as np
import pytest

import kgan
import kgan.cli
from kgan import networks


def tiny_classifier(shape=(8, 8, 1), num_classes=3):
    return keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.Dense(num_classes),
        ]
    )


def tiny_cgan(shape=(8, 8, 1), num_classes=3):
    g = networks.dcgan_generator(shape, latent_dim=4, num_classes=num_classes, width=4)
    d = networks.dcgan_discriminator(shape, num_classes=num_classes, width=4)
    model = kgan.ConditionalGAN(g, d, seed=0)
    model.compile()
    return model


def test_domain_extractor_gives_hidden_features_and_logits():
    classifier = tiny_classifier()
    extractor = kgan.metrics.domain_extractor("digits", classifier=classifier, batch_size=4)
    assert isinstance(extractor, kgan.metrics.FeatureExtractor)
    assert extractor.name == "digits_classifier"
    images = np.random.default_rng(0).uniform(-1, 1, (10, 8, 8, 1)).astype("float32")
    features, logits = extractor.features_and_logits(images)
    assert features.shape == (10, 6) and logits.shape == (10, 3)
    np.testing.assert_allclose(logits, classifier.predict(images, verbose=0), atol=1e-5)
    np.testing.assert_allclose(extractor(images), features)
    with pytest.raises(ValueError, match=r"shape \(n, height, width, 1 or 3\)"):
        extractor(images[..., 0])


def test_inception_extractor_shapes_without_weights_and_a_clear_error_for_missing_ones():
    extractor = kgan.metrics.inception_extractor(weights=None)
    assert extractor.name == "inception_v3"
    grey = np.zeros((2, 28, 28, 1), "float32")
    assert extractor(grey).shape == (2, 2048)
    with pytest.raises(RuntimeError, match="could not load InceptionV3 weights"):
        kgan.metrics.inception_extractor(weights="/nonexistent/weights.h5")


def test_streaming_fid_equals_the_function_whatever_the_batching():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(300, 5)), 0.5 + rng.normal(size=(240, 5)) * 1.5
    metric = kgan.metrics.FID(None, kgan.metrics.feature_statistics(real))
    for batch in np.array_split(fake, 7):
        metric.update_state(batch)
    expected = kgan.metrics.fid(real, fake)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-9)
    metric.reset_state()
    metric.update_state(fake)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="expected features"):
        metric.update_state(fake[:, :3])


def test_streaming_fid_with_an_extractor_and_kid_reservoir():
    classifier = tiny_classifier()
    extractor = kgan.metrics.domain_extractor("digits", classifier=classifier)
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    fake = rng.uniform(-1, 0.5, (48, 8, 8, 1)).astype("float32")
    real_features, fake_features = extractor(real), extractor(fake)
    fid_metric = kgan.metrics.FID(extractor, kgan.metrics.feature_statistics(real_features))
    kid_metric = kgan.metrics.KID(extractor, real_features, capacity=100, subset_size=40)
    for batch in np.split(fake, 3):
        fid_metric.update_state(batch)
        kid_metric.update_state(batch)
    assert float(fid_metric.result()) == pytest.approx(
        kgan.metrics.fid(real_features, fake_features), rel=1e-6, abs=1e-9
    )
    expected = kgan.metrics.kid(real_features, fake_features, subset_size=40, seed=0)
    np.testing.assert_allclose(kid_metric.result(), expected, rtol=1e-6, atol=1e-9)
    # Past its capacity the reservoir keeps a uniform subset of everything seen.
    small = kgan.metrics.KID(None, real_features, capacity=10)
    for batch in np.split(fake_features, 4):
        small.update_state(batch)
    kept = np.asarray(small.reservoir)
    assert int(small.seen.numpy()) == 48
    assert all(any(np.allclose(row, f) for f in fake_features) for row in kept)


def test_metrics_callback_logs_scores_and_stops_early():
    model = tiny_cgan()
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, 64).astype("int32")
    extractor = kgan.metrics.domain_extractor("digits", classifier=tiny_classifier())
    callback = kgan.callbacks.MetricsCallback(
        ["fid", "kid", "consistency"], every=1, num_samples=30, extractor=extractor, real=images
    )
    history = model.fit(images, labels, batch_size=32, epochs=2, callbacks=[callback], verbose=0)
    assert len(history.history["fid"]) == 2 and len(history.history["consistency"]) == 2
    assert all(np.isfinite(history.history["kid"]))
    # The same seed gives the same samples: evaluating twice without training agrees.
    assert callback.evaluate()["fid"] == callback.evaluate()["fid"]

    stopper = kgan.callbacks.MetricsCallback(
        ["fid"], extractor=extractor, real=images, monitor="fid", patience=2
    )
    stopper.set_model(model)
    scores = iter([5.0, 4.0, 4.5, 4.2, 3.0])
    stopper.evaluate = lambda: {"fid": next(scores)}
    for epoch in range(4):
        stopper.on_epoch_end(epoch, {})
    assert model.stop_training and stopper.best == 4.0 and stopper.stopped_epoch == 4
    with pytest.raises(ValueError, match="monitor must be one of"):
        kgan.callbacks.MetricsCallback(["fid"], monitor="precision")
    with pytest.raises(ValueError, match="metrics must be"):
        kgan.callbacks.MetricsCallback(["fidd"])


def test_evaluate_command_on_conditional_and_unconditional_models(tmp_path, monkeypatch, capsys):
    module = sys.modules["kgan.metrics.class_consistency"]
    classifier = tiny_classifier(num_classes=10)
    monkeypatch.setattr(
        module, "reference_classifier", lambda data, cache_dir=None: (classifier, 0.5)
    )
    cgan = tiny_cgan(num_classes=10)
    cgan.save(tmp_path / "cgan.keras")
    out = tmp_path / "scores" / "metrics.json"
    argv = ["evaluate", str(tmp_path / "cgan.keras"), "--data", "digits", "--num-samples", "40"]
    assert kgan.cli.main([*argv, "--metrics", "fid,kid,pr,consistency", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    for key in ("fid", "kid", "kid_std_error", "precision", "recall", "consistency"):
        assert np.isfinite(record[key])
    assert record["num_samples"] == 40 and record["extractor"] == "digits_classifier"
    assert "consistency" in capsys.readouterr().out

    vae = kgan.models.build_vae((8, 8, 1), latent_dim=2, width=4)
    vae.compile()
    vae.save(tmp_path / "vae.keras")
    argv[1] = str(tmp_path / "vae.keras")
    assert kgan.cli.main([*argv, "--metrics", "fid,dc,consistency"]) == 0
    printed = capsys.readouterr().out
    assert "density" in printed and "n/a" in printed
    assert kgan.cli.main(["evaluate", str(tmp_path), "--data", "digits"]) == 2


def test_the_old_metrics_callback_path_warns_and_gives_the_callback():
    with pytest.warns(DeprecationWarning, match="kgan.callbacks.MetricsCallback"):
        old = kgan.metrics.MetricsCallback
    assert old is kgan.callbacks.MetricsCallback

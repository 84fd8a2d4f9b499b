import sys

import keras
import numpy as np
import pytest

import kgan

module = sys.modules["kgan.metrics.class_consistency"]


def test_reference_classifier_caches_its_training(tmp_path, monkeypatch):
    calls = []

    def fake_train(data, verbose=0):
        calls.append(data)
        net = keras.Sequential(
            [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
        )
        return net, 0.5

    monkeypatch.setattr(module, "train_classifier", fake_train)
    assert kgan.metrics.cached_reference_classifier("digits", cache_dir=tmp_path) is None
    _, first = kgan.metrics.reference_classifier("digits", cache_dir=tmp_path)
    _, second = kgan.metrics.reference_classifier("digits", cache_dir=tmp_path)
    assert calls == ["digits"] and first == second == 0.5
    assert (tmp_path / "classifiers" / "digits.keras").exists()
    cached, accuracy = kgan.metrics.cached_reference_classifier("digits", cache_dir=tmp_path)
    assert isinstance(cached, keras.Model) and accuracy == 0.5
    # A classifier of another recipe is stale: absent for the cache, retrained by the getter.
    monkeypatch.setattr(module, "RECIPE_VERSION", module.RECIPE_VERSION + 1)
    assert kgan.metrics.cached_reference_classifier("digits", cache_dir=tmp_path) is None
    kgan.metrics.reference_classifier("digits", cache_dir=tmp_path)
    assert calls == ["digits", "digits"]


def test_kgan_export_looks_for_the_runs_cached_classifier_only(tmp_path, monkeypatch):
    import argparse
    import json

    from kgan.cli import export

    monkeypatch.setenv("KGAN_HOME", str(tmp_path))
    monkeypatch.setattr(module, "train_classifier", lambda *a, **k: pytest.fail("trained"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"")
    (run / "state.json").write_text(json.dumps({"epoch": 1, "options": {"data": "mnist_5k"}}))
    cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10, width=4)
    args = argparse.Namespace(source=str(run), classifier_data=None)
    assert export._parity_classifier(args, cgan) is None
    # Unconditional generators get none, whatever the run's data.
    gan = kgan.models.build_trainer("gan", (28, 28, 1), width=4)
    assert export._parity_classifier(args, gan) is None


def test_class_consistency_counts_agreement():
    # A "classifier" that reads the class off the mean brightness of the image.
    inputs = keras.Input((2, 2, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    scores = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[-1.0, 1.0]]))(
        mean
    )
    classifier = keras.Model(inputs, scores)
    images = np.concatenate([-np.ones((3, 2, 2, 1)), np.ones((1, 2, 2, 1))]).astype("float32")
    assert kgan.metrics.class_consistency(images, [0, 0, 1, 1], classifier) == 0.75
    with pytest.raises(ValueError, match="4 images for 3 labels"):
        kgan.metrics.class_consistency(images, [0, 0, 1], classifier)

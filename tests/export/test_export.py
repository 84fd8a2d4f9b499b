import json
import os
import shutil
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from litert_ops import op_names

import kgan
import kgan.export
from kgan import cli

LATENT_DIM = 8
NUM_CLASSES = 3
SHAPE = (8, 8, 1)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiny_cgan(**kwargs):
    return kgan.models.build_trainer(
        "cgan", SHAPE, num_classes=NUM_CLASSES, width=4, latent_dim=LATENT_DIM, **kwargs
    )


@pytest.fixture(scope="module")
def cgan():
    keras.utils.set_random_seed(1)
    return tiny_cgan()


@pytest.fixture(scope="module")
def exported(cgan, tmp_path_factory):
    return kgan.export.saved_model(cgan, tmp_path_factory.mktemp("sm") / "cgan")


@pytest.fixture(scope="module")
def float_tflite(cgan, tmp_path_factory):
    return kgan.export.tflite(cgan, tmp_path_factory.mktemp("tfl") / "model.tflite")


def saved_model_cli(*args):
    binary = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    command = [binary] if os.path.exists(binary) else [sys.executable, "-m", SAVED_MODEL_CLI]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


SAVED_MODEL_CLI = "tensorflow.python.tools.saved_model_cli"


def test_saved_model_layout_holds_only_the_generator(cgan, exported):
    assert exported.endswith(os.path.join("cgan", "1"))
    assert os.path.isfile(os.path.join(exported, "saved_model.pb"))
    assert os.path.isdir(os.path.join(exported, "variables"))
    assert os.listdir(os.path.dirname(exported)) == ["1"]  # no temporary folder left
    saved = [
        name
        for name, _ in tf.train.list_variables(os.path.join(exported, "variables", "variables"))
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    ]
    assert len(saved) == len(cgan.generator.weights)
    assert len(cgan.discriminator.weights) > 0
    assert exported.parity.max_abs_error <= 1e-5
    loaded = tf.saved_model.load(exported)
    assert set(loaded.signatures) == {"generate", "sample", "serving_default"}
    base = kgan.export.check_parity(cgan, os.path.dirname(exported), num_samples=8)
    assert base.format == "saved_model" and base.max_abs_error <= 1e-5


def test_an_existing_version_is_refused_unless_overwritten(cgan, tmp_path):
    first = kgan.export.saved_model(cgan, tmp_path, version=3, check=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        kgan.export.saved_model(cgan, tmp_path, version=3, check=False)
    again = kgan.export.saved_model(cgan, tmp_path, version=3, overwrite=True, check=False)
    assert again == first and sorted(os.listdir(tmp_path)) == ["3"]
    with pytest.raises(ValueError, match="version must be an int >= 1"):
        kgan.export.saved_model(cgan, tmp_path, version=0)


def test_a_failed_export_leaves_nothing(cgan, tmp_path):
    with pytest.raises(ValueError, match="unknown signatures"):
        kgan.export.saved_model(cgan, tmp_path / "m", signatures=["encode"])
    assert not os.path.exists(tmp_path / "m") or os.listdir(tmp_path / "m") == []


def test_saved_model_cli_lists_and_runs_the_signatures(cgan, exported, tmp_path):
    shown = saved_model_cli("show", "--dir", exported, "--all")
    for name in ("generate", "sample", "serving_default"):
        assert f"signature_def['{name}']" in shown
    generate = shown.split("signature_def['generate']")[1].split("signature_def[")[0]
    assert "inputs['z'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 8)" in generate
    assert "inputs['labels'] tensor_info:\n        dtype: DT_INT32\n        shape: (-1)" in generate
    assert (
        "outputs['images'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 8, 8, 1)"
        in (generate)
    )
    sample = shown.split("signature_def['sample']")[1].split("signature_def[")[0]
    assert (
        "inputs['num_samples'] tensor_info:\n        dtype: DT_INT32\n        shape: ()" in sample
    )
    z = np.linspace(-2, 2, 24, dtype=np.float32).reshape(3, 8)
    saved_model_cli(
        "run",
        "--dir",
        exported,
        "--tag_set",
        "serve",
        "--signature_def",
        "generate",
        "--input_exprs",
        f"z={z.tolist()};labels=[2, 0, 1]",
        "--outdir",
        str(tmp_path),
    )
    got = np.load(tmp_path / "images.npy")
    expected = cgan.generate(latents=z, labels=np.array([2, 0, 1]))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_the_sample_signature_is_deterministic_per_seed(cgan, exported):
    sample = tf.saved_model.load(exported).signatures["sample"]
    first = sample(num_samples=tf.constant(6), seed=tf.constant(3))["images"].numpy()
    again = sample(num_samples=tf.constant(6), seed=tf.constant(3))["images"].numpy()
    other = sample(num_samples=tf.constant(6), seed=tf.constant(4))["images"].numpy()
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3
    z = tf.random.stateless_normal([6, LATENT_DIM], seed=[3, 0]).numpy()
    expected = cgan.generate(latents=z, labels=np.arange(6) % NUM_CLASSES)
    np.testing.assert_allclose(first, expected, atol=1e-5)


def test_the_rest_example_matches_the_mnist_generator_signature():
    with open(os.path.join(REPO, "export", "serving", "request.json")) as f:
        request = json.load(f)
    model = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)
    generate = model.inference_functions()["generate"]
    specs = {spec.name: spec for spec in generate.input_signature}
    assert request["signature_name"] == "generate"
    assert request["instances"]
    for instance in request["instances"]:
        assert set(instance) == set(specs)
        assert np.asarray(instance["z"], "float32").shape == (specs["z"].shape[-1],)
        assert isinstance(instance["labels"], int) and 0 <= instance["labels"] < 10


def test_tflite_float32_matches_keras(cgan, float_tflite):
    assert float_tflite.parity.max_abs_error <= 1e-5
    runner = kgan.export.TFLiteModel(float_tflite)
    assert runner.signatures == ["generate"]
    assert runner.metadata["num_classes"] == NUM_CLASSES
    for n, seed in ((1, 0), (7, 5), (1, 2)):  # the batch dimension is resized both ways
        np.testing.assert_allclose(
            runner.generate(n, seed=seed), cgan.generate(n, seed=seed), atol=1e-5
        )
    labels = np.array([2, 2, 1])
    np.testing.assert_allclose(
        runner.generate(labels=labels, seed=9), cgan.generate(labels=labels, seed=9), atol=1e-5
    )
    z = np.zeros((2, LATENT_DIM), "float32")
    raw = runner(z=z, labels=np.array([0, 1]))
    np.testing.assert_allclose(raw["images"], cgan.generate(latents=z, labels=[0, 1]), atol=1e-5)
    with pytest.raises(ValueError, match="takes inputs"):
        runner(z=z)


def test_tflite_runner_batches_and_refuses_bad_sizes(cgan, float_tflite):
    runner = kgan.export.TFLiteModel(float_tflite, num_threads=1)
    np.testing.assert_allclose(
        runner.generate(5, seed=3, batch_size=2), cgan.generate(5, seed=3), atol=1e-5
    )
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
            runner.generate(5, seed=3, batch_size=bad)
        with pytest.raises(ValueError, match="num_threads must be an int >= 1"):
            kgan.export.TFLiteModel(float_tflite, num_threads=bad)


def test_tflite_runner_threads_default_to_the_cpus_the_process_may_use(float_tflite, monkeypatch):
    import ai_edge_litert.interpreter

    from kgan.export import runner as runner_lib

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("the platform has no CPU affinity")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert runner_lib.available_cpus() == 3
    threads = []
    original = ai_edge_litert.interpreter.Interpreter

    def recording(*args, num_threads=None, **kwargs):
        threads.append(num_threads)
        return original(*args, num_threads=num_threads, **kwargs)

    monkeypatch.setattr(ai_edge_litert.interpreter, "Interpreter", recording)
    kgan.export.TFLiteModel(float_tflite)
    kgan.export.TFLiteModel(float_tflite, num_threads=2)
    assert threads == [3, 2]


# The int8 bound on an untrained generator's images, whose values reach about 0.2-0.35: an
# int8 step on the tanh output is 1 / 128, and errors compound through layers of random
# weights (measured: 0.008-0.012 with the default calibration, 0.076 with 64 user rows; the
# trained cgan_mnist preset: 0.63 on 1,000 samples, PSNR 39.8 dB and unchanged class
# consistency, in benchmarks/results/export_latency.json). An export whose images came out
# flat (all zeros) would miss it, and miss the correlation.
INT8_MAX_ERROR = 0.15


def assert_images_close(actual, expected, atol=INT8_MAX_ERROR):
    np.testing.assert_allclose(actual, expected, atol=atol)
    assert np.corrcoef(np.ravel(actual), np.ravel(expected))[0, 1] > 0.98


@pytest.mark.parametrize(
    "quantization, bound", [("float16", 0.001), ("dynamic", 0.02), ("int8", INT8_MAX_ERROR)]
)
def test_quantized_tflite_runs_with_bounded_error(tmp_path, quantization, bound):
    # A 64-dimensional latent: the converter leaves weights of fewer than 1,024 elements in
    # float32, which would be all of them with the 8-dimensional one.
    keras.utils.set_random_seed(2)
    cgan = kgan.models.build_trainer("cgan", SHAPE, num_classes=NUM_CLASSES, width=4)
    float_tflite = kgan.export.tflite(cgan, tmp_path / "f.tflite")
    path = kgan.export.tflite(cgan, tmp_path / "q.tflite", quantization=quantization)
    assert path.parity.quantization == quantization
    assert path.parity.max_abs_error <= bound
    assert os.path.getsize(path) < os.path.getsize(float_tflite)
    images = kgan.export.TFLiteModel(path).generate(16, seed=0)
    assert_images_close(images, cgan.generate(16, seed=0), atol=bound)


def test_dense_layers_quantize_per_tensor_unless_asked(cgan, tmp_path):
    per_tensor = kgan.export.tflite(cgan, tmp_path / "t.tflite", "int8", check=False)
    per_channel = kgan.export.tflite(
        cgan, tmp_path / "c.tflite", "int8", check=False, per_channel_dense=True
    )
    # One scale and zero point for the projection instead of one per output unit.
    assert os.path.getsize(per_tensor) < os.path.getsize(per_channel)
    for path in (per_tensor, per_channel):
        assert_images_close(
            kgan.export.TFLiteModel(path).generate(16, seed=0), cgan.generate(16, seed=0)
        )


def test_int8_with_integer_io_and_user_calibration_data(cgan, tmp_path):
    rng = np.random.default_rng(0)
    data = {"z": rng.standard_normal((64, LATENT_DIM)).astype("float32")}
    path = kgan.export.tflite(
        cgan, tmp_path / "io.tflite", "int8", representative_data=data, integer_io=True
    )
    runner = kgan.export.TFLiteModel(path)
    assert runner.input_details()["z"]["dtype"] == np.int8
    assert runner.output_details()["images"]["dtype"] == np.int8
    assert_images_close(runner.generate(16, seed=2), cgan.generate(16, seed=2))
    # Integer I/O changes only how values cross the boundary: the same quantized graph with
    # float I/O and the same calibration gives the same images, to one int8 step (2 / 255),
    # when both run on the same kernels. The built-in ones: XNNPACK chooses its int8 kernels,
    # and which operations it takes over, by the CPU and by the boundary's type. Both without
    # the sub-pixel form, which either conversion may have left (see the test below).
    integer_images, float_images = (
        kgan.export.TFLiteModel(
            kgan.export.tflite(
                cgan,
                tmp_path / f"{name}.tflite",
                "int8",
                representative_data=data,
                integer_io=integer_io,
                check=False,
                subpixel=False,
            ),
            xnnpack=False,
        ).generate(16, seed=2)
        for name, integer_io in (("integer_io", True), ("float_io", False))
    )
    np.testing.assert_allclose(integer_images, float_images, atol=2 / 255 + 1e-6)


def test_int8_calibration_with_unusable_ranges_is_redone_without_the_subpixel_form(
    cgan, tmp_path, monkeypatch
):
    # TensorFlow's calibrator can record garbage ranges (scales of 1e28 and more, a flat
    # output) for the sub-pixel form on 2x2 feature maps, as this generator's first layer
    # has, though not on every run: here the first conversion is made to look so.
    writers = kgan.export.writers
    found = writers._unusable_ranges
    calls = []

    def first_unusable(content):
        calls.append(found(content))
        return ["garbage"] if len(calls) == 1 else calls[-1]

    monkeypatch.setattr(writers, "_unusable_ranges", first_unusable)
    with pytest.warns(RuntimeWarning, match="subpixel=False"):
        path = kgan.export.tflite(cgan, tmp_path / "q.tflite", "int8")
    assert calls[1] == []
    assert "DEPTH_TO_SPACE" not in op_names(path) and "TRANSPOSE_CONV" in op_names(path)
    assert_images_close(
        kgan.export.TFLiteModel(path).generate(16, seed=0), cgan.generate(16, seed=0)
    )
    assert "DEPTH_TO_SPACE" in op_names(kgan.export.tflite(cgan, tmp_path / "f.tflite"))


def test_int8_calibration_that_no_form_can_use_is_refused(cgan, tmp_path):
    huge = {"z": np.full((32, LATENT_DIM), 1e12, "float32")}
    with pytest.warns(RuntimeWarning), pytest.raises(ValueError, match="unusable ranges"):
        kgan.export.tflite(cgan, tmp_path / "h.tflite", "int8", representative_data=huge)
    assert os.listdir(tmp_path) == []
    # Every signature's subgraph is read: a VAE's encoder (not its first subgraph) calibrated
    # on absurd images.
    vae = kgan.models.build_vae(SHAPE, latent_dim=4, width=4)
    x = np.random.default_rng(0).uniform(-1, 1, (32, *SHAPE)).astype("float32")
    with pytest.raises(ValueError, match="unusable ranges to .'tfl.quantize.*encoder"):
        kgan.export.tflite(vae, tmp_path / "h.tflite", "int8", representative_data={"x": x * 1e12})
    assert os.listdir(tmp_path) == []


def test_no_second_conversion_without_a_layer_in_the_sub_pixel_form(tmp_path, monkeypatch):
    # A generator of 2-D points has no transposed convolution: nothing to convert otherwise.
    keras.utils.set_random_seed(0)
    gan = kgan.models.build_trainer("gan", (2,), latent_dim=4)
    writers = kgan.export.writers
    monkeypatch.setattr(writers, "_unusable_ranges", lambda content: ["garbage"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"unusable ranges to \['garbage'\]"):
            kgan.export.tflite(gan, tmp_path / "g.tflite", "int8")


def test_tflite_runner_falls_back_to_builtin_kernels_when_xnnpack_cannot_prepare(
    cgan, float_tflite, monkeypatch
):
    import ai_edge_litert.interpreter as litert

    expected = cgan.generate(3, seed=4)
    # The built-in kernels on several threads gave wrong, varying outputs: they run on one.
    plain = kgan.export.TFLiteModel(float_tflite, num_threads=2, xnnpack=False)
    for _ in range(3):
        np.testing.assert_allclose(plain.generate(3, seed=4), expected, atol=1e-5)
    with pytest.raises(ValueError, match="xnnpack must be True or False"):
        kgan.export.TFLiteModel(float_tflite, xnnpack="no")

    resolvers = []

    class NoXNNPACK(litert.Interpreter):
        def __init__(self, *args, experimental_op_resolver_type=None, **kwargs):
            super().__init__(
                *args, experimental_op_resolver_type=experimental_op_resolver_type, **kwargs
            )
            self.resolver = experimental_op_resolver_type
            resolvers.append(experimental_op_resolver_type)

        def allocate_tensors(self):
            if self.resolver == litert.OpResolverType.AUTO:
                raise RuntimeError("failed to create XNNPACK runtimeNode number 25 failed")
            return super().allocate_tensors()

    monkeypatch.setattr(litert, "Interpreter", NoXNNPACK)
    runner = kgan.export.TFLiteModel(float_tflite)
    with pytest.warns(RuntimeWarning, match="XNNPACK delegate could not prepare"):
        images = runner.generate(3, seed=4)
    np.testing.assert_allclose(images, expected, atol=1e-5)
    assert resolvers == [
        litert.OpResolverType.AUTO,
        litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    ]
    np.testing.assert_allclose(runner.generate(1, seed=4), expected[:1], atol=1e-5)

    class Broken(litert.Interpreter):
        def allocate_tensors(self):
            raise RuntimeError("some other failure")

    monkeypatch.setattr(litert, "Interpreter", Broken)
    with pytest.raises(RuntimeError, match="some other failure"):
        kgan.export.TFLiteModel(float_tflite).generate(1, seed=0)


def test_export_errors_say_what_to_do(cgan, tmp_path):
    with pytest.raises(ValueError, match="quantization must be None"):
        kgan.export.tflite(cgan, tmp_path / "m.tflite", quantization="int4")
    with pytest.raises(ValueError, match="must be a .tflite file"):
        kgan.export.tflite(cgan, tmp_path / "m.lite")
    with pytest.raises(ValueError, match="stateless random ops"):
        kgan.export.tflite(cgan, tmp_path / "m.tflite", signatures=["sample"])
    with pytest.raises(ValueError, match="quantization='int8'"):
        kgan.export.tflite(cgan, tmp_path / "m.tflite", representative_data={"z": np.zeros(1)})
    vae = kgan.models.build_vae(SHAPE, latent_dim=4, width=4)
    with pytest.raises(ValueError, match=r"representative_data=\{'x'"):
        kgan.export.tflite(vae, tmp_path / "vae.tflite", quantization="int8")
    with pytest.raises(ValueError, match="inference_functions"):
        kgan.export.saved_model(object(), tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="run folder"):
        kgan.export.tflite(str(tmp_path / "missing"), tmp_path / "m.tflite")
    assert not os.path.exists(tmp_path / "m.tflite") and not os.path.exists(tmp_path / "vae.tflite")


def test_the_ema_generator_is_what_gets_exported(tmp_path):
    model = tiny_cgan(ema_decay=0.9)
    model.ema_generator.set_weights([w * 0.5 for w in model.generator.get_weights()])
    path = kgan.export.saved_model(model, tmp_path)  # the check compares with generate (EMA)
    loaded = tf.saved_model.load(path)
    z = np.ones((2, LATENT_DIM), "float32")
    images = loaded.signatures["generate"](z=z, labels=tf.constant([0, 1]))["images"].numpy()
    ema = model.ema_generator([z, np.array([0, 1])], training=False).numpy()
    np.testing.assert_allclose(images, ema, atol=1e-6)


def test_vae_encode_and_decode_round_trip(tmp_path):
    vae = kgan.models.build_vae(SHAPE, latent_dim=4, width=4)
    path = kgan.export.saved_model(vae, tmp_path / "sm")
    loaded = tf.saved_model.load(path)
    assert {"encode", "decode", "generate", "serving_default"} == set(loaded.signatures)
    x = np.random.default_rng(0).uniform(-1, 1, (5, *SHAPE)).astype("float32")
    latents = loaded.signatures["encode"](x=x)["latents"].numpy()
    np.testing.assert_allclose(latents, vae.encode(x), atol=1e-5)
    images = loaded.signatures["decode"](z=latents)["images"].numpy()
    np.testing.assert_allclose(images, vae.decode(latents), atol=1e-5)
    lite = kgan.export.TFLiteModel(kgan.export.tflite(vae, tmp_path / "vae.tflite"))
    assert sorted(lite.signatures) == ["decode", "encode", "generate"]
    np.testing.assert_allclose(lite(signature="encode", x=x)["latents"], latents, atol=1e-5)
    np.testing.assert_allclose(lite.generate(3, seed=2), vae.generate(3, seed=2), atol=1e-5)


def test_vaegan_exports_through_its_inference_functions(tmp_path):
    vaegan = kgan.models.build_vaegan(SHAPE, latent_dim=4, width=4)
    path = kgan.export.saved_model(vaegan, tmp_path, signatures=["encode", "decode"])
    assert path.parity.max_abs_error <= 1e-5
    assert set(tf.saved_model.load(path).signatures) == {"encode", "decode", "serving_default"}


def test_gaussian_mixture_signatures_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 0.5, (100, 2)), rng.normal(2, 0.5, (100, 2))])
    gmm = kgan.mixture.GaussianMixture(2, random_state=0).fit(x.astype("float32"))
    path = kgan.export.saved_model(gmm, tmp_path / "gmm")
    loaded = tf.saved_model.load(path)
    assert loaded.signatures.keys() >= {"score_samples", "predict_proba", "serving_default"}
    queries = x[::20].astype("float32")
    log_prob = loaded.signatures["score_samples"](x=queries)["log_prob"].numpy()
    np.testing.assert_allclose(log_prob, gmm.score_samples(queries), rtol=1e-5)
    probabilities = loaded.signatures["predict_proba"](x=queries)["probabilities"].numpy()
    np.testing.assert_allclose(probabilities, gmm.predict_proba(queries), atol=1e-5)
    lite = kgan.export.TFLiteModel(
        kgan.export.tflite(gmm, tmp_path / "gmm.tflite", signatures=["score_samples"])
    )
    np.testing.assert_allclose(
        lite(x=queries)["log_prob"], gmm.score_samples(queries), rtol=1e-4, atol=1e-4
    )


def test_check_parity_scores_class_consistency_with_a_given_classifier(cgan, float_tflite):
    classifier = keras.Sequential(
        [keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(NUM_CLASSES)]
    )
    report = kgan.export.check_parity(cgan, float_tflite, num_samples=30, classifier=classifier)
    assert report.format == "tflite" and report.quantization == "float32"
    assert 0.0 <= report.class_consistency <= 1.0
    assert report.exported_class_consistency == pytest.approx(report.class_consistency)
    assert report.psnr > 80 and json.dumps(report.to_dict())
    assert "class consistency" in str(report)


def test_cli_exports_a_trained_run(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "small.npz"
    np.savez(
        data,
        x=rng.integers(0, 256, (32, 8, 8), dtype=np.uint8),
        y=rng.integers(0, 3, 32).astype("int64"),
    )
    run = tmp_path / "run"
    train = ["train", "cgan", "--data", str(data), "--out", str(run), "--quiet", "--epochs", "1"]
    small = [
        "--batch-size",
        "16",
        "--width",
        "4",
        "--latent-dim",
        "4",
        "--grid-every",
        "0",
        "--no-xla",
    ]
    assert cli.main([*train, *small]) == 0
    out = tmp_path / "exports"
    argv = ["export", str(run), "--format", "saved_model,tflite", "--quantize", "none,int8"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "parity of saved_model" in text and "parity of tflite int8" in text
    assert os.path.isfile(out / "saved_model" / "1" / "saved_model.pb")
    model = keras.saving.load_model(run / "model.keras")
    lite = kgan.export.TFLiteModel(out / "tflite" / "model.tflite")
    np.testing.assert_allclose(lite.generate(6, seed=0), model.generate(6, seed=0), atol=1e-5)
    assert os.path.isfile(out / "tflite" / "model_int8.tflite")
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert "overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", str(run), "--format", "onnx", "--out", str(out)])
    assert "--format takes" in capsys.readouterr().err
    shutil.rmtree(out / "tflite")
    assert cli.main([*argv[:2], "--format", "tflite", "--out", str(out)]) == 0


def test_the_resize_upsampling_option_builds_and_serializes():
    generator = kgan.networks.dcgan_generator(
        (8, 8, 1), latent_dim=4, num_classes=3, width=4, upsampling="resize"
    )
    assert not any(isinstance(x, keras.layers.Conv2DTranspose) for x in generator.layers)
    z, labels = np.ones((2, 4), "float32"), np.array([0, 2])
    clone = keras.Model.from_config(generator.get_config())
    clone.set_weights(generator.get_weights())
    np.testing.assert_allclose(clone([z, labels]), generator([z, labels]), atol=1e-6)
    assert generator([z, labels]).shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match="upsampling must be"):
        kgan.networks.dcgan_generator((8, 8, 1), upsampling="bilinear")

import warnings

import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from kgan.mixture import GaussianMixture, _graph

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"]


def _data(n_per_component=200, seed=0):
    """Three overlapping, correlated 3-D clusters: `[3 * n_per_component, 3]`."""
    rng = np.random.default_rng(seed)
    parts = [
        rng.normal(size=(n_per_component, 3)) @ rng.normal(size=(3, 3)) + 3.0 * rng.normal(size=3)
        for _ in range(3)
    ]
    return np.concatenate(parts)


X = _data()


def _start(covariance_type, k=3, seed=1):
    """Initial parameters (a short scikit-learn fit) to hand to both implementations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = SklearnGaussianMixture(
            k, covariance_type=covariance_type, max_iter=2, random_state=seed
        ).fit(X)
    return dict(
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
    )


def _assert_same_fit(ours, theirs, rtol):
    for name in FITTED:
        expected = np.asarray(getattr(theirs, name))
        np.testing.assert_allclose(
            getattr(ours, name),
            expected,
            rtol=rtol,
            atol=rtol * np.abs(expected).max(),
            err_msg=name,
        )
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fixed_iterations_match_sklearn_in_float64(covariance_type):
    kwargs = dict(_start(covariance_type), tol=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
        ours = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
    _assert_same_fit(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-6)
    assert ours.n_iter_ == theirs.n_iter_ == 20
    assert ours.converged_ is theirs.converged_ is False


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_xla_compiled_loop_matches_sklearn(monkeypatch, covariance_type):
    # Small data run without XLA by default ("auto"); force it to check the compiled path.
    monkeypatch.setattr(_graph, "JIT_COMPILE", True)
    kwargs = dict(_start(covariance_type), tol=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
        ours = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
        streamed = GaussianMixture(3, dtype="float64", **kwargs)
        streamed.fit([X[i : i + 256] for i in range(0, len(X), 256)])
    _assert_same_fit(ours, theirs, rtol=1e-6)
    _assert_same_fit(streamed, theirs, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_a_long_run_moves_from_the_plain_graph_to_xla_midway(monkeypatch, covariance_type):
    # "auto" at a size where XLA pays: the first iterations plain, the rest compiled, one run.
    monkeypatch.setattr(_graph, "XLA_MIN_WORK", 1)
    monkeypatch.setattr(_graph, "XLA_AFTER", 3)
    monkeypatch.setattr(_graph, "_XLA_COMPILED", set())
    calls = []
    functions = _graph.compiled(covariance_type, "float64")
    for jit in (False, True):
        original = functions.em_run[jit]
        monkeypatch.setitem(
            functions.em_run, jit, lambda *a, _f=original, _j=jit: calls.append(_j) or _f(*a)
        )
    kwargs = dict(_start(covariance_type), tol=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
        ours = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
        assert calls == [False, True]
        again = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
    assert calls == [False, True, True]  # compiled for this shape: XLA from the start
    for fitted in (ours, again):
        _assert_same_fit(fitted, theirs, rtol=1e-6)
        np.testing.assert_allclose(fitted.lower_bounds_, theirs.lower_bounds_, rtol=1e-6)
        assert fitted.n_iter_ == 20 and len(fitted.lower_bounds_) == 20


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_converged_fit_matches_sklearn(covariance_type):
    kwargs = dict(_start(covariance_type), tol=1e-6, max_iter=200)
    theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
    ours = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
    assert ours.converged_ and theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    _assert_same_fit(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_each_init_params_matches_sklearn_from_the_same_seed(init_params):
    kwargs = dict(init_params=init_params, random_state=0, n_init=2, max_iter=30, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
        ours = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
    _assert_same_fit(ours, theirs, rtol=1e-5)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bound_never_decreases(covariance_type):
    model = GaussianMixture(
        4, covariance_type=covariance_type, init_params="random", tol=0, max_iter=30,
        random_state=0, dtype="float64",
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        model.fit(X)
    bounds = np.asarray(model.lower_bounds_)
    assert len(bounds) == 30 and bounds[-1] == model.lower_bound_
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:]))


def test_float32_default_is_close_to_sklearn_and_predictions_agree():
    kwargs = dict(_start("full"), tol=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
        ours = GaussianMixture(3, **kwargs).fit(X)
    assert ours.means_.dtype == np.float32
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-5)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-3, atol=1e-3)
    assert np.mean(ours.predict(X) == theirs.predict(X)) >= 0.999
    # float32 against float64 after 20 full-covariance EM steps: a few 1e-4 relative.
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=5e-4, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)


def test_float32_keeps_tight_clusters_far_apart_exact():
    # Clusters 2,000 spreads apart: statistics about a common origin would lose the
    # covariances to cancellation in float32 (x x^T ~ 1e6 against variances ~ 1).
    rng = np.random.default_rng(3)
    far = X + np.repeat(np.array([[-2000.0, 0, 0], [0, 2000.0, 0], [0, 0, 2000.0]]), 200, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = SklearnGaussianMixture(3, max_iter=1, means_init=far[[0, 200, 400]]).fit(far)
        kwargs = dict(
            weights_init=start.weights_,
            means_init=start.means_ + rng.normal(scale=0.1, size=(3, 3)),
            precisions_init=start.precisions_,
            tol=0,
            max_iter=10,
        )
        theirs = SklearnGaussianMixture(3, **kwargs).fit(far)
        ours = GaussianMixture(3, **kwargs).fit(far)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-5)


def test_fit_predict_equals_fit_then_predict():
    kwargs = dict(n_init=2, max_iter=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = GaussianMixture(3, **kwargs).fit_predict(X)
        model = GaussianMixture(3, **kwargs).fit(X)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_streamed_fit_equals_in_memory_fit(covariance_type):
    kwargs = dict(_start(covariance_type), tol=0, max_iter=10, dtype="float64")
    in_memory = GaussianMixture(3, **kwargs)
    streamed = GaussianMixture(3, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory.fit(X)
        streamed.fit(tf.data.Dataset.from_tensor_slices(X).batch(128))
    for name in FITTED:
        np.testing.assert_allclose(getattr(streamed, name), getattr(in_memory, name), rtol=1e-10)
    np.testing.assert_allclose(streamed.lower_bounds_, in_memory.lower_bounds_, rtol=1e-12)


def test_stream_forms_and_kmeans_initialization_from_the_leading_rows():
    labels = np.zeros(len(X), "int32")
    kwargs = dict(random_state=0, dtype="float64")
    reference = GaussianMixture(3, **kwargs).fit(X)
    batches = [X[i : i + 100] for i in range(0, len(X), 100)]
    pairs = tf.data.Dataset.from_tensor_slices((X, labels)).batch(64)
    for stream in (batches, pairs, lambda: iter(batches)):
        model = GaussianMixture(3, stream_init_size=len(X), **kwargs).fit(stream)
        np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-8)
        assert model.n_iter_ == reference.n_iter_
    np.testing.assert_array_equal(model.predict(batches), reference.predict(X))
    with pytest.raises(ValueError, match="one-shot iterator"):
        GaussianMixture(3).fit(iter(batches))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_distribution_log_prob_equals_score_samples(covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0, dtype="float64")
    model.fit(X)
    distribution = model.distribution()
    assert distribution.batch_shape == () and distribution.event_shape == (3,)
    np.testing.assert_allclose(distribution.log_prob(X).numpy(), model.score_samples(X), rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_shapes_labels_and_moments(covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    samples, labels = model.sample(3000)
    assert samples.shape == (3000, 3) and labels.shape == (3000,)
    assert set(np.unique(labels)) <= {0, 1, 2} and np.all(np.diff(labels) >= 0)
    for k in range(3):
        np.testing.assert_allclose(samples[labels == k].mean(0), model.means_[k], atol=0.5)
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_aic_and_score_equal_sklearn(covariance_type):
    kwargs = dict(_start(covariance_type), tol=1e-6, max_iter=200)
    theirs = SklearnGaussianMixture(3, **kwargs).fit(X)
    ours = GaussianMixture(3, dtype="float64", **kwargs).fit(X)
    np.testing.assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-8)
    np.testing.assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-8)
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-8)


def test_warm_start_continues_from_the_previous_fit():
    kwargs = dict(_start("full"), tol=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = GaussianMixture(3, max_iter=10, **kwargs).fit(X)
        twice = GaussianMixture(3, max_iter=5, warm_start=True, **kwargs).fit(X).fit(X)
    np.testing.assert_allclose(twice.means_, once.means_, rtol=1e-10)


def test_get_params_set_params_and_clone():
    model = GaussianMixture(4, covariance_type="diag", dtype="float64")
    assert model.get_params()["covariance_type"] == "diag"
    assert clone(model).set_params(n_components=2).n_components == 2


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_save_load_round_trip(tmp_path, covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    path = model.save(tmp_path / "gmm.npz")
    loaded = GaussianMixture.load(path)
    assert loaded.get_params()["covariance_type"] == covariance_type
    for name in FITTED:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    assert loaded.lower_bound_ == model.lower_bound_ and loaded.n_iter_ == model.n_iter_
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))


def test_save_failure_leaves_the_previous_file(tmp_path, monkeypatch):
    model = GaussianMixture(2, random_state=0).fit(X)
    path = model.save(tmp_path / "gmm")  # no .npz suffix needed
    before = path and open(path, "rb").read()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        GaussianMixture(3, random_state=0).fit(X).save(path)
    assert open(path, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gmm"]


def test_saved_model_round_trip(tmp_path):
    model = GaussianMixture(3, random_state=0).fit(X)
    functions = model.inference_functions()
    tf.saved_model.save(tf.Module(), str(tmp_path), signatures=functions)
    restored = tf.saved_model.load(str(tmp_path))
    x = tf.constant(X, tf.float32)
    outputs = {name: restored.signatures[name](x=x)["output_0"].numpy() for name in functions}
    np.testing.assert_allclose(
        outputs["score_samples"], model.score_samples(X), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(outputs["predict_proba"], model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(outputs["predict"], model.predict(X))


def test_bad_inputs_give_clear_errors():
    model = GaussianMixture(3, random_state=0)
    with pytest.raises(NotFittedError):
        model.predict(X)
    nan = X.copy()
    nan[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity in 1 of"):
        model.fit(nan)
    with pytest.raises(ValueError, match="2-D array"):
        model.fit(X[:, 0])
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(5).fit(X[:4])
    model.fit(X)
    with pytest.raises(ValueError, match="has 2 features, but the GaussianMixture was fitted"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.score_samples(np.full((2, 3), np.inf))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_components=0), "n_components"),
        (dict(covariance_type="banded"), "covariance_type"),
        (dict(tol=-1.0), "tol"),
        (dict(reg_covar=-1.0), "reg_covar"),
        (dict(max_iter=-1), "max_iter"),
        (dict(n_init=0), "n_init"),
        (dict(init_params="sorted"), "init_params"),
        (dict(dtype="float16"), "dtype"),
        (dict(weights_init=[0.5, 0.6]), "weights_init"),
        (dict(means_init=np.zeros((2, 4))), "means_init"),
        (dict(precisions_init=-np.ones((2, 3, 3))), "precisions_init"),
    ],
)
def test_bad_arguments_are_checked_at_fit(kwargs, message):
    kwargs = dict(dict(n_components=2), **kwargs)
    model = GaussianMixture(**kwargs)  # constructing never fails, as in scikit-learn
    with pytest.raises(ValueError, match=message):
        model.fit(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_singular_covariance_gives_sklearns_advice(covariance_type):
    collapsed = X.copy()
    collapsed[:, 2] = 1.0  # no variance along one feature
    start = dict(
        weights_init=np.full(2, 0.5),
        means_init=collapsed[:2],
        precisions_init={"full": np.stack([np.eye(3)] * 2), "tied": np.eye(3),
                         "diag": np.ones((2, 3)), "spherical": np.ones(2)}[covariance_type],
    )  # fmt: skip
    model = GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.0, dtype="float64")
    expected = "ill-defined empirical covariance.*increase reg_covar"
    if covariance_type == "spherical":  # the mean over features stays positive
        model.fit(collapsed)
        return
    with pytest.raises(ValueError, match=expected):
        model.set_params(**start).fit(collapsed)  # fails inside the graph loop
    with pytest.raises(ValueError, match=expected):
        model.set_params(weights_init=None, means_init=None, precisions_init=None).fit(collapsed)

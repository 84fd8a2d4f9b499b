import json
import os
import re

import keras
import numpy as np
import pytest
from PIL import Image

import kgan
import kgan.cli
from kgan import models


@pytest.fixture()
def small_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "small.npz"
    np.savez(
        path,
        x=rng.integers(0, 256, (32, 8, 8), dtype=np.uint8),
        y=rng.integers(0, 3, 32).astype("int64"),
    )
    return path


def test_the_parser_takes_every_trainer_and_refuses_others(capsys):
    parser = kgan.cli.build_parser()
    for name in models.list_trainers():
        assert parser.parse_args(["train", name, "--out", "r"]).model == name
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "dcgan", "--out", "r"])
    assert "invalid choice: 'dcgan'" in capsys.readouterr().err


def test_labels_parser():
    assert kgan.cli.parse_labels("0-3") == [0, 1, 2, 3]
    assert kgan.cli.parse_labels("1,4-5,9") == [1, 4, 5, 9]
    for bad in ("a", "3-1", "1,,2"):
        with pytest.raises(Exception, match="--labels"):
            kgan.cli.parse_labels(bad)


def test_help_reads_well(capsys):
    with pytest.raises(SystemExit) as exit_info:
        kgan.cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--resume" in text and "examples:" in text and "kgan train cgan" in text


def test_train_resume_and_sample(tmp_path, small_npz, cli):
    out = tmp_path / "run"
    common = ["train", "cgan", "--data", str(small_npz), "--out", str(out), "--quiet"]
    small = ["--batch-size", "16", "--width", "4", "--latent-dim", "4"]
    status, text = cli([*common, *small, "--epochs", "1"])
    assert status == 0, text
    assert {"model.keras", "state.json", "history.csv", "samples.png", "grids"} <= {
        p.name for p in out.iterdir()
    }
    assert json.loads((out / "state.json").read_text())["epoch"] == 1

    status, text = cli([*common, "--epochs", "1"])
    assert status == 2 and "already holds a run" in text

    status, text = cli([*common, "--epochs", "3", "--resume"])
    assert status == 0, text
    assert "resuming" in text
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 3 and state["options"]["width"] == 4
    assert len((out / "history.csv").read_text().strip().splitlines()) == 1 + 3

    grid = tmp_path / "grid.png"
    status, text = cli(["sample", str(out), "--num", "4", "--labels", "1-2", "--out", str(grid)])
    assert status == 0, text
    with Image.open(grid) as picture:
        assert picture.size == (2 * (2 + 2 * 10), 2 * (2 + 2 * 10))  # 2 rows x 2, scale 2

    status, text = cli(["sample", str(out), "--labels", "7", "--out", str(grid)])
    assert status == 2 and "outside the model's classes 0-2" in text

    refined = tmp_path / "refined.png"
    argv = ["sample", str(out), "--num", "4", "--labels", "1-2", "--refine", "3"]
    status, text = cli([*argv, "--out", str(refined)])
    assert status == 0, text
    with Image.open(grid) as plain, Image.open(refined) as moved:
        cli(["sample", str(out), "--num", "4", "--labels", "1-2", "--out", str(grid)])
        assert plain.size == moved.size
    with Image.open(grid) as plain, Image.open(refined) as moved:
        assert np.abs(np.asarray(plain, "float32") - np.asarray(moved, "float32")).max() > 0


def test_cli_errors(tmp_path, cli):
    status, text = cli(["sample", str(tmp_path), "--out", str(tmp_path / "g.png")])
    assert status == 2 and "neither a run folder" in text
    status, text = cli(["train", "cgan", "--out", str(tmp_path / "r"), "--resume", "--epochs", "1"])
    assert status == 2 and "has no checkpoint" in text
    status, text = cli(["train", "cgan", "--data", "no_such_data", "--out", str(tmp_path / "r")])
    assert status == 2 and "unknown dataset" in text
    with pytest.raises(SystemExit):
        kgan.cli.main(["train", "cgan", "--out", "r", "--epochs", "0"])


def test_train_passes_the_tricks_to_the_trainer(tmp_path, small_npz, cli):
    def argv(out, *extra):
        small = ["--batch-size", "16", "--width", "4", "--latent-dim", "4", "--epochs", "1"]
        data = ["--data", str(small_npz)]
        return ["train", "gan", *data, "--out", str(out), "--quiet", *small, *extra]

    tricks = ["--augment", "translation,cutout", "--pack", "2", "--ema-decay", "0.9"]
    status, text = cli(argv(tmp_path / "run", *tricks))
    assert status == 0, text
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.augment == ("translation", "cutout") and model.pack == 2
    assert model.ema_decay == 0.9
    status, text = cli(argv(tmp_path / "bad", "--augment", "flip"))
    assert status == 2 and "unknown augmentation" in text


@pytest.mark.parametrize("name", ["vae", "vaegan"])
def test_train_and_sample_the_vae_family(name, tmp_path, small_npz, cli):
    out = tmp_path / name
    common = ["train", name, "--data", str(small_npz), "--out", str(out), "--quiet"]
    small = ["--batch-size", "16", "--width", "4", "--latent-dim", "3", "--lr", "1e-3"]
    status, text = cli([*common, *small, "--epochs", "1"])
    assert status == 0, text
    model = keras.saving.load_model(out / "model.keras")
    assert type(model).__name__ == name.upper() and model.latent_dim == 3
    assert (out / "grids" / "epoch_001.png").exists()
    status, text = cli([*common, "--epochs", "2", "--resume"])
    assert status == 0, text
    assert json.loads((out / "state.json").read_text())["epoch"] == 2
    grid = tmp_path / "grid.png"
    status, text = cli(["sample", str(out), "--num", "4", "--out", str(grid)])
    assert status == 0 and grid.exists(), text
    status, text = cli(["sample", str(out), "--labels", "1", "--out", str(grid)])
    assert status == 2 and "unconditional" in text
    status, text = cli(["sample", str(out), "--refine", "2", "--out", str(grid)])
    assert status == 2 and "needs a trained kgan GAN" in text
    bad = [*common[:-2], str(tmp_path / "bad"), *small, "--r1", "1", "--pack", "2"]
    status, text = cli(bad)
    assert status == 2 and f"--r1, --pack: not options of {name}" in text


def test_train_ex_post_fits_the_mixture_of_the_training_codes(tmp_path, small_npz, cli):
    out = tmp_path / "vae"
    argv = ["train", "vae", "--data", str(small_npz), "--out", str(out), "--quiet", "--epochs", "1"]
    small = ["--batch-size", "16", "--width", "4", "--latent-dim", "3", "--ex-post", "2"]
    # --num-examples: the run trains on, and fits the mixture to, 20 of the 32 examples.
    status, text = cli([*argv, *small, "--num-examples", "20"])
    assert status == 0, text
    assert "fitted the ex-post mixture (2 components) on 20 training examples" in text
    assert json.loads((out / "state.json").read_text())["options"]["num_examples"] == 20
    model = keras.saving.load_model(out / "model.keras")
    assert model.sampling == "ex_post" and model.ex_post_components == 2
    x, _ = kgan.data.load_arrays(str(small_npz), split="train", num_examples=20)
    expected = kgan.mixture.GaussianMixture(
        2, covariance_type="full", reg_covar=1e-4, n_init=3, random_state=0
    ).fit(model.encode(x))
    np.testing.assert_allclose(model.ex_post_means.numpy(), expected.means_, rtol=1e-4, atol=1e-5)
    gan = [
        "train",
        "gan",
        "--data",
        str(small_npz),
        "--out",
        str(tmp_path / "gan"),
        "--epochs",
        "1",
    ]
    status, text = cli([*gan, "--ex-post", "2"])
    assert status == 2 and "--ex-post needs a trainer with an encoder (bigan, vae, vaegan)" in text


def test_resume_trims_history_rows_of_epochs_it_runs_again(tmp_path):
    from kgan.cli.train import _trim_history

    path = tmp_path / "history.csv"
    path.write_text("epoch,d_loss\n0,1.0\n1,2.0\n2,3.0\n")
    _trim_history(path, 2)
    assert path.read_text().splitlines() == ["epoch,d_loss", "0,1.0", "1,2.0"]
    _trim_history(tmp_path / "missing.csv", 1)  # nothing to trim
    assert not (tmp_path / "missing.csv").exists()


def test_train_help_explains_resume_and_guards(capsys):
    with pytest.raises(SystemExit):
        kgan.cli.main(["train", "--help"])
    text = capsys.readouterr().out
    assert "--no-divergence-guard" in text and "--no-collapse-check" in text
    assert "exit status 3" in text and "uninterrupted" in text


@pytest.mark.parametrize("name", ["gan", "vae"])
def test_train_lr_decay_cosine_spans_the_run_and_survives_resume(name, tmp_path, small_npz, cli):
    out = tmp_path / name
    common = ["train", name, "--data", str(small_npz), "--out", str(out), "--quiet"]
    small = ["--batch-size", "16", "--width", "4", "--latent-dim", "3"]
    status, text = cli([*common, *small, "--epochs", "1", "--lr-decay", "cosine"])
    assert status == 0, text
    model = keras.saving.load_model(out / "model.keras")
    optimizer = model.g_optimizer if name == "gan" else model.optimizer
    default_lr = 2e-4 if name == "gan" else 1e-3
    schedule = optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    batches = len(np.load(small_npz)["x"]) // 16
    assert schedule.decay_steps == batches * 1 and schedule.alpha == 0.01
    assert float(schedule(0)) == pytest.approx(default_lr)
    # One epoch is the whole schedule: the rate ends at 1% of its start.
    assert float(optimizer.learning_rate) == pytest.approx(default_lr * 0.01)
    assert float(schedule(batches / 2)) == pytest.approx(default_lr * 0.505)
    # A resumed run keeps the schedule it was started with.
    status, text = cli([*common, "--epochs", "2", "--resume"])
    assert status == 0, text
    model = keras.saving.load_model(out / "model.keras")
    optimizer = model.g_optimizer if name == "gan" else model.optimizer
    assert optimizer._learning_rate.decay_steps == batches
    assert float(optimizer.learning_rate) == pytest.approx(default_lr * 0.01)


def test_train_lr_decay_epochs_stops_part_way_along_a_longer_cosine(tmp_path, small_npz, cli):
    out = tmp_path / "gan"
    common = ["train", "gan", "--data", str(small_npz), "--out", str(out), "--quiet"]
    small = ["--batch-size", "16", "--width", "4", "--latent-dim", "3", "--epochs", "1"]
    status, text = cli([*common, *small, "--lr-decay-epochs", "4"])
    assert status != 0 and "add --lr-decay cosine" in text
    assert not out.exists()
    status, text = cli([*common, *small, "--lr-decay", "cosine", "--lr-decay-epochs", "4"])
    assert status == 0, text
    optimizer = keras.saving.load_model(out / "model.keras").g_optimizer
    batches = len(np.load(small_npz)["x"]) // 16
    assert optimizer._learning_rate.decay_steps == batches * 4
    # One epoch of four: a quarter of the way along the cosine.
    quarter = 0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi / 4))
    assert float(optimizer.learning_rate) == pytest.approx(2e-4 * quarter)
    state = json.loads((out / "state.json").read_text())
    assert state["options"]["lr_decay_epochs"] == 4


def test_cluster_prints_scores_and_writes_assignments_and_pictures(tmp_path, cli):
    x, y = kgan.data.load_arrays("mnist_5k", split="test", num_examples=60)
    model = kgan.models.build_trainer(
        "clustergan", (28, 28, 1), num_clusters=3, noise_dim=2, width=4, seed=0
    )
    path = tmp_path / "clustergan.keras"
    model.save(path)
    out = tmp_path / "clusters"
    argv = ["cluster", str(path), "--data", "mnist_5k", "--split", "test"]
    status, text = cli([*argv, "--num-examples", "60", "--out", str(out)])
    assert status == 0, text
    expected = kgan.cluster.clustering_scores(y, model.cluster(x))
    assert re.search(rf"acc\s+{expected['acc']:.4f}\n", text), text
    rows = (out / "clusters.csv").read_text().splitlines()
    assert rows[0] == "index,cluster,label" and len(rows) == 61
    assert [int(r.split(",")[1]) for r in rows[1:]] == model.cluster(x).tolist()
    scores = json.loads((out / "scores.json").read_text())
    assert scores["acc"] == pytest.approx(expected["acc"])
    assert sum(scores["cluster_sizes"]) == 60
    members = Image.open(out / "members.png")
    categories = Image.open(out / "categories.png")
    # One row per cluster, --per-cluster (10) images in each.
    assert members.size == categories.size and members.size[0] > 3 * members.size[1]
    # --neighbors: each example's cluster is its neighbourhood's vote (GANClustering's).
    status, text = cli([*argv, "--num-examples", "60", "--neighbors", "3", "--out", str(out)])
    assert status == 0 and "3 clusters, each the vote of 3 neighbours" in text, text
    voted = kgan.cluster.GANClustering(model, n_clusters=3, n_neighbors=3).fit(x).labels_
    rows = (out / "clusters.csv").read_text().splitlines()
    assert [int(r.split(",")[1]) for r in rows[1:]] == voted.tolist()
    assert voted.tolist() != model.cluster(x).tolist()  # the vote changed some
    status, text = cli([*argv, "--num-examples", "60", "--neighbors", "60"])
    assert status == 2 and "x has 60 samples; n_neighbors=60 needs more than that" in text
    # A model that does not cluster is refused with the names of those that do.
    gan = kgan.models.build_trainer("gan", (28, 28, 1), width=4)
    gan.save(tmp_path / "gan.keras")
    status, text = cli(["cluster", str(tmp_path / "gan.keras")])
    assert status == 2
    assert "does not cluster; train one of ['bigan', 'clustergan', 'infogan']" in text


def test_cluster_writes_data_labelled_by_clusters_that_a_conditional_gan_trains_on(tmp_path, cli):
    x, _ = kgan.data.load_arrays("mnist_5k", split="test", num_examples=64)
    model = kgan.models.build_trainer(
        "clustergan", (28, 28, 1), num_clusters=3, noise_dim=2, width=4, seed=0
    )
    model.save(tmp_path / "clustergan.keras")
    data = tmp_path / "pseudo" / "clusters.npz"
    argv = ["cluster", str(tmp_path / "clustergan.keras"), "--split", "test"]
    status, text = cli([*argv, "--num-examples", "64", "--write-data", str(data)])
    assert status == 0, text
    assert f"wrote {data} (64 examples, labels = clusters)" in text
    clusters = model.cluster(x)
    with np.load(data) as f:
        np.testing.assert_array_equal(f["x"], x)
        np.testing.assert_array_equal(f["y"], clusters)
    assert sorted(os.listdir(data.parent)) == ["clusters.npz"]  # nothing half-written left
    # The clusters are the classes of a conditional GAN trained on it.
    out = tmp_path / "cgan"
    status, text = cli(
        ["train", "cgan", "--data", str(data), "--epochs", "1", "--batch-size", "16",
         "--width", "4", "--latent-dim", "4", "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert status == 0, text
    assert keras.saving.load_model(out / "model.keras").num_classes == clusters.max() + 1
    status, text = cli([*argv, "--write-data", str(tmp_path / "clusters.csv")])
    assert status == 2 and "--write-data must name a .npz file" in text


def test_cluster_fits_a_bigans_mixture_and_draws_infogans_code_traversals(tmp_path, cli):
    x, _ = kgan.data.load_arrays("mnist_5k", split="test", num_examples=40)
    bigan = kgan.models.build_trainer(
        "bigan", (28, 28, 1), num_clusters=3, latent_dim=4, width=4, seed=0
    )
    bigan.save(tmp_path / "bigan.keras")
    argv = ["cluster", str(tmp_path / "bigan.keras"), "--split", "test", "--num-examples", "40"]
    saved = tmp_path / "clustered.keras"
    status, text = cli(
        [*argv, "--out", str(tmp_path / "bigan"), "--one-nn", "--save-model", str(saved)]
    )
    assert status == 0, text
    assert "fitted its mixture on these 40 examples" in text
    (x_train, y_train), (x_test, y_test) = (
        kgan.data.load_arrays("mnist_5k", split=s) for s in ("train", "test")
    )
    one_nn = kgan.cluster.nearest_neighbor_accuracy(
        bigan.encode(x_train), y_train, bigan.encode(x_test), y_test
    )
    assert re.search(rf"one_nn\s+{one_nn:.4f}  \(4000 train, 1000 test\)", text), text
    scores = json.loads((tmp_path / "bigan" / "scores.json").read_text())
    assert scores["one_nn"] == pytest.approx(one_nn)
    status, text = cli([*argv])
    assert status == 0 and "fitted its mixture" in text  # the source itself is left as it was
    status, text = cli(["cluster", str(saved), "--split", "test", "--num-examples", "40"])
    assert status == 0 and "fitted its mixture" not in text
    rows = (tmp_path / "bigan" / "clusters.csv").read_text().splitlines()
    expected = bigan.fit_clusters(x).cluster(x)
    assert [int(r.split(",")[1]) for r in rows[1:]] == expected.tolist()
    np.testing.assert_array_equal(keras.saving.load_model(saved).cluster(x), expected)
    assert (tmp_path / "bigan" / "categories.png").exists()

    infogan = kgan.models.build_trainer(
        "infogan", (28, 28, 1), num_clusters=3, num_continuous=2, noise_dim=2, width=4, seed=0
    )
    infogan.save(tmp_path / "infogan.keras")
    argv = ["cluster", str(tmp_path / "infogan.keras"), "--split", "test", "--num-examples", "40"]
    status, text = cli([*argv, "--out", str(tmp_path / "infogan"), "--per-cluster", "5"])
    assert status == 0, text
    for j in (1, 2):
        grid = Image.open(tmp_path / "infogan" / f"code_{j}.png")
        # One row per cluster, the code swept over --per-cluster columns.
        assert grid.size[0] * 3 == pytest.approx(grid.size[1] * 5, rel=0.05)
    assert not (tmp_path / "bigan" / "code_1.png").exists()

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


@pytest.fixture
def tiny_trainer():
    """A factory of registered trainers with tiny default networks (latent 3, width 4, seed 0
    where the trainer takes them): `tiny_trainer("cgan", (8, 8, 1), num_classes=3)`."""
    import kgan

    def build(name, shape=(8, 8, 1), num_classes=3, **options):
        cls = kgan.models.get_trainer(name)
        small = {"latent_dim": 3, "width": 4, "seed": 0}
        small = {k: v for k, v in small.items() if k in cls.build_options}
        return kgan.models.build_trainer(name, shape, num_classes=num_classes, **small, **options)

    return build


@pytest.fixture
def cli(capsys):
    """Runs the `kgan` command in this process: `status, output = cli(["zoo", "list"])`, the
    output being standard output and error together."""
    import kgan.cli

    def run(argv):
        status = kgan.cli.main(argv)
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    return run

import json

import numpy as np
from PIL import Image


def _folder(root, count=24):
    rng = np.random.default_rng(0)
    for i in range(count):
        path = root / f"c{i % 2}" / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), "L").save(path)
    return root


def test_pack_info_verify_and_train_from_the_pack(tmp_path, cli):
    folder = _folder(tmp_path / "images")
    pack = tmp_path / "pack"
    status, text = cli(
        ["data", "pack", str(folder), "--out", str(pack), "--examples-per-shard", "10"]
    )
    assert status == 0, text
    assert "packed 24 images of 8x8x1 into 3 shards" in text
    status, text = cli(["data", "pack", str(folder), "--out", str(pack)])
    assert status == 2 and "exists" in text

    status, text = cli(["data", "info", str(pack), "--json"])
    assert status == 0, text
    described = json.loads(text)
    assert described["shape"] == [8, 8, 1] and described["num_classes"] == 2
    assert described["num_examples"] == {"train": 24}
    status, text = cli(["data", "info", str(folder)])
    assert status == 0 and "images of 8 x 8 x 1, 2 classes; train 24" in text

    status, text = cli(["data", "verify", str(pack)])
    assert status == 0 and "every shard matches" in text
    shard = sorted(pack.glob("*.tfrecord"))[0]
    raw = bytearray(shard.read_bytes())
    raw[40] ^= 1
    shard.write_bytes(bytes(raw))
    status, text = cli(["data", "verify", str(pack)])
    assert status == 2 and shard.name in text
    shard.write_bytes(bytes(raw[:40]))
    status, text = cli(["data", "info", str(pack)])
    assert status == 2 and "manifest says" in text


def test_train_streams_a_folder(tmp_path, cli):
    folder = _folder(tmp_path / "images")
    out = tmp_path / "run"
    argv = ["train", "cgan", "--data", str(folder), "--out", str(out), "--quiet", "--epochs", "1"]
    small = ["--batch-size", "8", "--width", "4", "--latent-dim", "4", "--cache", "stream"]
    status, text = cli([*argv, *small])
    assert status == 0, text
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and "cache" not in state["options"]  # how, not what, is read

"""`kgan data`: describe datasets, and pack image folders as TFRecord files."""

import argparse
import dataclasses
import json
import time

import kgan
from kgan.cli.common import fail, positive_int

EPILOG_DATA = """\
examples:
  kgan data info mnist_5k
  kgan data info photos/ --json
  kgan data pack photos/ --out photos_pack
  kgan data pack photos/ --out photos_pack --image-size 64 64 --examples-per-shard 5000
  kgan data verify photos_pack
  kgan train gan --data photos_pack --image-size 64 64

A pack is a folder of TFRecord shards and manifest.json (counts, shape, classes, SHA-256 of each
shard). Every command that takes --data reads it like the folder it came from, faster: the
images are decoded once, when packed.
"""


def add_parser(commands):
    """Adds `data` and its subcommands."""
    data = commands.add_parser(
        "data",
        help="describe datasets; pack image folders as sharded TFRecord files",
        description="Describe datasets, and pack image folders as sharded TFRecord files.",
        epilog=EPILOG_DATA,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    details = actions.add_parser(
        "info", help="shape, classes and counts of a dataset, without reading every file"
    )
    details.add_argument("data", metavar="DATA", help="a built-in or TFDS name, file or folder")
    details.add_argument("--json", action="store_true", help="print the description as JSON")
    pack = actions.add_parser(
        "pack", help="decode an image folder once into TFRecord shards with a manifest"
    )
    pack.add_argument("folder", metavar="FOLDER", help="class subfolders, or a flat folder")
    pack.add_argument("--out", required=True, metavar="DIR", help="the pack's folder (new)")
    pack.add_argument(
        "--image-size",
        type=positive_int,
        nargs=2,
        metavar=("H", "W"),
        help="resize every image (needed when their sizes differ)",
    )
    pack.add_argument(
        "--examples-per-shard",
        type=positive_int,
        help="examples per shard (default: about 64 MiB of pixels each)",
    )
    pack.add_argument("--seed", type=int, default=0, help="seed of the examples' order (0)")
    pack.add_argument("--quiet", action="store_true", help="print nothing on success")
    verify = actions.add_parser(
        "verify", help="check every shard of a pack against its manifest's SHA-256"
    )
    verify.add_argument("pack", metavar="DIR", help="a pack written by `kgan data pack`")


def run(args):
    """Runs `kgan data ACTION`."""
    return {"info": _info, "pack": _pack, "verify": _verify}[args.data_command](args)


def _info(args):
    info = kgan.data.info(args.data)
    if args.json:
        print(json.dumps(dataclasses.asdict(info), indent=2))
        return 0
    shape = " x ".join("?" if s is None else str(s) for s in info.shape)
    classes = "unlabelled" if info.num_classes is None else f"{info.num_classes} classes"
    counts = ", ".join(f"{split} {count:,}" for split, count in info.num_examples.items())
    print(f"{info.name}: {info.kind}s of {shape}, {classes}; {counts}")
    return 0


def _pack(args):
    started = time.perf_counter()
    manifest = kgan.data.pack_folder(
        args.folder,
        args.out,
        image_size=tuple(args.image_size) if args.image_size else None,
        examples_per_shard=args.examples_per_shard,
        seed=args.seed,
    )
    if not args.quiet:
        shards = manifest["shards"]
        size = sum(s["bytes"] for s in shards) / 2**20
        print(
            f"packed {manifest['num_examples']:,} images of "
            f"{'x'.join(map(str, manifest['shape']))} into {len(shards)} shards "
            f"({size:,.1f} MiB) in {args.out} in {time.perf_counter() - started:.1f} s"
        )
    return 0


def _verify(args):
    changed = kgan.data.verify_pack(args.pack)
    if changed:
        return fail(
            f"{len(changed)} shard(s) of {args.pack} differ from the manifest's SHA-256: "
            f"{', '.join(changed)}; copy them again or repack the folder"
        )
    print(f"{args.pack}: every shard matches its manifest")
    return 0

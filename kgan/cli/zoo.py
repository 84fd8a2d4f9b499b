"""`kgan zoo`: list, pull, inspect and publish presets."""

import argparse
import json
import os
import pathlib

import kgan

EPILOG_ZOO = """\
examples:
  kgan zoo list
  kgan zoo list '*mnist'
  kgan zoo pull cgan_mnist
  kgan zoo info cgan_mnist
  kgan zoo info cgan_mnist --json       # includes the source it resolves to, and why
  kgan zoo publish runs/cgan_mnist --name cgan_mnist --dataset mnist_5k \\
      --metrics metrics.json --recipe zoo/recipes/cgan_mnist.sh --zoo zoo
  HF_TOKEN=... kgan zoo publish zoo/cgan_mnist --to hf://OWNER/cgan_mnist
  kgan zoo publish zoo/cgan_mnist --to hf://OWNER/cgan_mnist --dry-run
  kgan zoo mirror /media/usb/kgan-zoo cgan_mnist vae_mnist

Built-in names resolve against $KGAN_ZOO_URL (a mirror), else the zoo/ folder of a source
checkout, else the Hugging Face Hub at the revision pinned in kgan's registry. Every file is
checked against the SHA-256 sums shipped with kgan. Mirrored files are cached under $KGAN_HOME
(default ~/.cache/kgan), Hub files in the Hugging Face cache ($HF_HOME; $HF_ENDPOINT, $HF_TOKEN
apply). KGAN_OFFLINE=1 or HF_HUB_OFFLINE=1 uses the caches only.
"""


def add_parser(commands):
    """Adds `zoo` and its subcommands."""
    zoo = commands.add_parser(
        "zoo",
        help="list, download and inspect pretrained presets",
        description="List, download, inspect and publish pretrained presets.",
        epilog=EPILOG_ZOO,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = zoo.add_subparsers(dest="zoo_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the built-in presets and their metrics")
    listing.add_argument("pattern", nargs="?", help="a glob (*mnist) or substring (gan)")
    pull = actions.add_parser("pull", help="download presets into the cache and check them")
    pull.add_argument("presets", nargs="+", metavar="PRESET", help="names, folders or URLs")
    pull.add_argument("--offline", action="store_true", help="use the cache only")
    details = actions.add_parser("info", help="a preset's metadata and model card")
    details.add_argument("preset", metavar="PRESET", help="a name, folder or URL")
    details.add_argument("--json", action="store_true", help="print the metadata as JSON")
    mirror = actions.add_parser(
        "mirror", help="write a verified copy of presets into a folder that KGAN_ZOO_URL can serve"
    )
    mirror.add_argument("directory", metavar="DIR", help="the mirror folder (created)")
    mirror.add_argument("names", nargs="*", metavar="NAME", help="built-in presets (all)")
    publish = actions.add_parser(
        "publish",
        help="write a trained model as a preset into a zoo folder and index it, and/or upload "
        "a preset to the Hugging Face Hub (--to)",
    )
    publish.add_argument(
        "source", help="run folder, .keras file or GaussianMixture .npz; with --to also a preset"
    )
    publish.add_argument(
        "--name",
        help="the preset's name, e.g. cgan_mnist (needed unless SOURCE is a preset folder)",
    )
    publish.add_argument(
        "--to",
        metavar="hf://OWNER/REPO[/FOLDER]",
        help="upload the preset to the Hugging Face Hub in one commit (token: $HF_TOKEN or the "
        "saved login) and pin that commit in the zoo's index (and kgan's registry for the "
        "checkout's own zoo)",
    )
    publish.add_argument(
        "--dry-run",
        action="store_true",
        help="with --to: print what would be uploaded, upload nothing",
    )
    publish.add_argument("--private", action="store_true", help="with --to: a private repository")
    publish.add_argument("--zoo", default="zoo", help="the zoo folder (zoo)")
    publish.add_argument("--description", help="one line on what the model is")
    publish.add_argument("--dataset", help="the training data, e.g. mnist_5k")
    publish.add_argument("--recipe", help="a file holding the commands that train it")
    publish.add_argument(
        "--metrics", help="a JSON file of measured metrics (e.g. from kgan evaluate --out)"
    )
    publish.add_argument("--metrics-command", help="the command that measured --metrics")
    publish.add_argument("--notes", help="free text for the model card")
    publish.add_argument("--license", default="Apache-2.0", help="license of the weights")


def _list(args):
    rows = kgan.zoo.list_presets(args.pattern)
    if not rows:
        print("no preset matches" if args.pattern else "no built-in presets")
        return 0
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        metrics = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in row["metrics"].items()
            if k != "command"
        )
        cached = "cached" if row["cached"] else "      "
        print(f"{row['name']:{width}s}  {row['class_name']:15s} {cached}  {row['description']}")
        if metrics:
            print(f"{'':{width}s}  {metrics}")
    return 0


def _pull(args):
    for preset in args.presets:
        folder = kgan.zoo.pull(preset, offline=args.offline or None)
        print(f"{preset}: {folder}")
    return 0


def _info(args):
    metadata = kgan.zoo.info(args.preset)
    if args.json:
        print(json.dumps(metadata, indent=2))
        return 0
    for key in ("name", "class_name", "description", "dataset", "parameter_count", "license"):
        if metadata.get(key) is not None:
            print(f"{key:16s}{metadata[key]}")
    print(f"{'cached':16s}{metadata.get('cached', 'n/a')}")
    source = metadata.get("source")
    if source:
        print(f"{'source':16s}{source['kind'] or 'none'}: {source['location'] or ''}")
        print(f"{'':16s}({source['reason']})")
    metrics = metadata.get("metrics") or {}
    for key, value in metrics.items():
        if key != "command":
            print(f"  {key:22s}{value}")
    if metrics.get("command"):
        print(f"  measured with: {metrics['command']}")
    if metadata.get("recipe"):
        print("recipe:")
        for line in metadata["recipe"].strip().splitlines():
            print(f"  {line}")
    for name, entry in metadata.get("files", {}).items():
        print(f"  {name:20s}{entry['size']:>10,d} bytes  sha256 {entry['sha256'][:16]}...")
    return 0


def _own_registry(zoo_dir):
    """The registry shipped with kgan when `zoo_dir` is the checkout's own zoo (the registry
    follows that zoo only), else None."""
    source_zoo = kgan.zoo.registry.source_zoo_folder()
    own = source_zoo is not None and os.path.samefile(zoo_dir, source_zoo)
    return kgan.zoo.registry.REGISTRY_FILE if own else None


def _is_preset(folder):
    return os.path.isfile(os.path.join(folder, kgan.zoo.format.METADATA_FILE))


def _publish(args):
    if args.dry_run and not args.to:
        raise ValueError("--dry-run previews an upload: give --to hf://OWNER/REPO")
    if args.to and _is_preset(args.source) and args.name is None:
        return _upload(args.source, args)
    if args.name is None:
        raise ValueError(
            f"{args.source} is not a preset folder: give --name to write it as a preset first"
        )
    if args.dry_run:
        raise ValueError("--dry-run previews the upload of a preset folder, not of a run")
    folder = _write_preset(args)
    return _upload(folder, args) if args.to else 0


def _upload(folder, args):
    plan = kgan.zoo.hub.plan(folder, args.to)
    total = sum(plan["files"].values())
    print(
        f"{'would upload' if args.dry_run else 'uploading'} {folder} to "
        f"hf://{plan['repo_id']}{'/' + plan['subfolder'] if plan['subfolder'] else ''} "
        f"({len(plan['files'])} files, {total:,} bytes, one commit):"
    )
    for path, size in plan["files"].items():
        print(f"  {path:40s}{size:>12,d} bytes")
    if args.dry_run:
        return 0
    location = kgan.zoo.hub.publish(folder, args.to, private=args.private or None)
    print(f"published {plan['name']} at {kgan.zoo.hub.handle(location)}")
    zoo_dir = os.path.dirname(os.path.abspath(os.path.normpath(folder)))
    name = os.path.basename(os.path.normpath(folder))
    index = os.path.join(zoo_dir, kgan.zoo.registry.INDEX_FILE)
    if not os.path.isfile(index):
        print(f"{zoo_dir} has no index.json: record the revision by hand")
        return 0
    registry_file = _own_registry(zoo_dir)
    kgan.zoo.record_hub(zoo_dir, name, location, registry_file=registry_file)
    print(
        f"pinned revision {location['revision']} in {index}"
        + (" and kgan's registry" if registry_file else "")
    )
    return 0


def _mirror(args):
    names = kgan.zoo.write_mirror(args.directory, args.names or None)
    print(
        f"{args.directory}: {len(names)} verified presets ({', '.join(names)}); serve it and "
        f"set KGAN_ZOO_URL, or set KGAN_ZOO_URL={pathlib.Path(args.directory).resolve().as_uri()}"
    )
    return 0


def _write_preset(args):
    from kgan.export import load_model

    model = load_model(args.source)
    metrics = {}
    if args.metrics:
        with open(args.metrics) as f:
            measured = json.load(f)
        # Numbers only; the sampling settings belong to the command, not the metrics.
        settings = {"seed", "num_samples", "num_real"}
        metrics = {
            k: v
            for k, v in measured.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k not in settings
        }
        if args.metrics_command:
            metrics["command"] = args.metrics_command
    recipe = None
    if args.recipe:
        with open(args.recipe) as f:
            recipe = f.read()
    folder = kgan.zoo.save_to_preset(
        model,
        os.path.join(args.zoo, args.name),
        description=args.description,
        dataset=args.dataset,
        recipe=recipe,
        metrics=metrics,
        license=args.license,
        notes=args.notes,
        overwrite=True,
    )
    kgan.zoo.build_index(args.zoo, registry_file=_own_registry(args.zoo))
    print(f"wrote {folder} and {os.path.join(args.zoo, 'index.json')}")
    return folder


def run(args):
    """Runs `kgan zoo ACTION`."""
    handlers = {
        "list": _list,
        "pull": _pull,
        "info": _info,
        "publish": _publish,
        "mirror": _mirror,
    }
    return handlers[args.zoo_command](args)

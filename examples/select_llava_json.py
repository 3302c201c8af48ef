"""Select from LLaVA conversation JSON (the mix665k format), keeping the mix's proportions.

    python examples/select_llava_json.py llava_v1_5_mix665k.json --image-folder playground/data --k 133000

Without the real file, `--demo` writes a small mix to try it on.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from vlprune import StratifiedSelector, SubsetManifest, export_llava_json, load_pool


def write_demo_mix(folder: Path, n: int = 60) -> Path:
    sources = ["coco/train2017", "gqa/images", "ocr_vqa/images", "textvqa/train_images", "vg/VG_100K", None]
    items = []
    for i in range(n):
        src = sources[i % len(sources)]
        item = {"id": f"demo{i}", "conversations": [
            {"from": "human", "value": ("<image>\n" if src else "") + f"Question {i}?"},
            {"from": "gpt", "value": f"Answer {i}."}]}
        if src:
            item["image"] = f"{src}/{i:06d}.jpg"
        items.append(item)
    path = folder / "demo_mix.json"
    path.write_text(json.dumps(items))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="?", help="LLaVA conversation JSON")
    parser.add_argument("--image-folder", default=None)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--demo", action="store_true", help="run on a small generated mix")
    args = parser.parse_args()
    if args.demo or not args.json:
        args.json = str(write_demo_mix(Path(tempfile.mkdtemp())))

    pool = load_pool("llava-json", args.json, image_folder=args.image_folder)
    print(pool, "sources:", pool.table["source"].value_counts().to_dict())
    selection = StratifiedSelector(by="source").select(pool, args.k, seed=0)
    print("selected per source:", pool.table.loc[selection.positions, "source"].value_counts().to_dict())
    SubsetManifest.from_selection(selection, pool).save("subset_llava.json")
    export_llava_json(pool, selection.positions, "subset_llava_train.json")
    print("wrote subset_llava.json (manifest) and subset_llava_train.json (LLaVA training JSON)")


if __name__ == "__main__":
    main()

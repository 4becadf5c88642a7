#!/usr/bin/env python3
"""Crier's parser against Python's feedparser on the same corpus files.

    python3 -m venv /tmp/fpvenv && /tmp/fpvenv/bin/pip install feedparser
    nice cargo bench --bench parse --no-run      # prints the bench binary
    /tmp/fpvenv/bin/python benches/feedparser/compare.py \
        --crier-bin target/release/deps/parse-<hash> [--runs 5]

The files: the XML files of ``tests/fixtures/corpus/`` (feedparser 6 does
not read JSON Feed, so the JSON files are left out of every figure here).

Figures, each the median, min and max of ``--runs`` runs:

- whole-process: wall time from spawning the process to its exit, for a
  process that starts, imports its parser (Python: interpreter start-up
  and ``import feedparser``), reads every file and parses each once;
  MB/s of the files' bytes and items/s of the items read;
- in-loop: the parsing loop alone (files already in memory); for
  feedparser timed inside the worker, for Crier the parse bench's own
  "XML files" figure (``--runs 5 --reps 3`` of the bench binary).

Correctness: per file, the item count of each parser, and per item the
title (tags stripped, entities decoded, whitespace collapsed) and link;
disagreements are listed.
"""

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fixtures", "corpus")


def xml_files():
    with open(os.path.join(CORPUS, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    return [f for f in sorted(manifest) if not f.endswith(".json")], manifest


def worker():
    """Run in a fresh interpreter: import, read, parse each file once."""
    import feedparser  # noqa: PLC0415 (timed as part of the process)

    files, _ = xml_files()
    datas = []
    for f in files:
        with open(os.path.join(CORPUS, f), "rb") as fh:
            datas.append(fh.read())
    start = time.perf_counter()
    items = 0
    for d in datas:
        items += len(feedparser.parse(d).entries)
    loop = time.perf_counter() - start
    print(json.dumps({"bytes": sum(map(len, datas)), "items": items, "loop": loop}))


def stats(values):
    return statistics.median(values), min(values), max(values)


def fmt(label, values, unit, digits):
    m, lo, hi = stats(values)
    return f"{label}: {m:.{digits}f} {unit} (min {lo:.{digits}f}, max {hi:.{digits}f})"


def timed(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, out


def plain(s):
    s = re.sub(r"<[^>]*>", "", s or "")
    return " ".join(html.unescape(s).split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crier-bin", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    files, manifest = xml_files()
    total = sum(manifest[f]["bytes"] for f in files)
    print(f"corpus: {len(files)} XML files, {total / 1e6:.2f} MB")

    fp_whole_mb, fp_whole_items, fp_loop_mb, fp_loop_items = [], [], [], []
    for _ in range(args.runs):
        wall, out = timed([sys.executable, os.path.abspath(__file__), "--crier-bin", "-", "--worker"])
        r = json.loads(out)
        fp_whole_mb.append(r["bytes"] / wall / 1e6)
        fp_whole_items.append(r["items"] / wall)
        fp_loop_mb.append(r["bytes"] / r["loop"] / 1e6)
        fp_loop_items.append(r["items"] / r["loop"])
    cr_whole_mb, cr_whole_items = [], []
    for _ in range(args.runs):
        wall, out = timed([args.crier_bin, "--once", "--xml-only"])
        b, _, n, _ = out.split()
        cr_whole_mb.append(int(b) / wall / 1e6)
        cr_whole_items.append(int(n) / wall)
    _, bench = timed([args.crier_bin, "--runs", str(args.runs), "--reps", "3"])
    m = re.search(
        r"parse XML files .*?: ([\d.]+) MB/s \(min ([\d.]+), max ([\d.]+)\); "
        r"(\d+) items/s \(min (\d+), max (\d+)\)",
        bench,
    )

    print("whole-process (start-up, import, file reads, one parse of each file):")
    print("  " + fmt("feedparser", fp_whole_mb, "MB/s", 2) + "; " + fmt("", fp_whole_items, "items/s", 0)[2:])
    print("  " + fmt("Crier     ", cr_whole_mb, "MB/s", 1) + "; " + fmt("", cr_whole_items, "items/s", 0)[2:])
    print(f"  ratio (medians): {stats(cr_whole_mb)[0] / stats(fp_whole_mb)[0]:.1f}x MB/s, "
          f"{stats(cr_whole_items)[0] / stats(fp_whole_items)[0]:.1f}x items/s")
    print("in-loop (parsing only, files in memory):")
    print("  " + fmt("feedparser", fp_loop_mb, "MB/s", 2) + "; " + fmt("", fp_loop_items, "items/s", 0)[2:])
    if m:
        cm, clo, chi, im, ilo, ihi = (float(x) for x in m.groups())
        print(f"  Crier     : {cm:.1f} MB/s (min {clo:.1f}, max {chi:.1f}); "
              f"{im:.0f} items/s (min {ilo:.0f}, max {ihi:.0f})")
        print(f"  ratio (medians): {cm / stats(fp_loop_mb)[0]:.1f}x MB/s, {im / stats(fp_loop_items)[0]:.1f}x items/s")
    else:
        print("  Crier: bench output not understood:\n" + bench)

    # Correctness: counts, titles, links per file.
    import feedparser  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "crier.json")
        subprocess.run([args.crier_bin, "--dump", path], check=True, capture_output=True)
        with open(path, encoding="utf-8") as fh:
            crier = json.load(fh)
    count_diff, title_diff, link_diff, items = [], 0, 0, 0
    examples = []
    for f in files:
        with open(os.path.join(CORPUS, f), "rb") as fh:
            fp = feedparser.parse(fh.read())
        c = crier.get(f, {"items": 0})
        if len(fp.entries) != c["items"]:
            count_diff.append((f, len(fp.entries), c["items"], manifest[f]["items"]))
            continue
        for e, t, link in zip(fp.entries, c.get("titles", []), c.get("links", [])):
            items += 1
            if plain(e.get("title")) != plain(t):
                title_diff += 1
                if len(examples) < 6:
                    examples.append(f"{f}: title feedparser {plain(e.get('title'))!r} / Crier {plain(t)!r}")
            if (e.get("link") or None) != link:
                link_diff += 1
                if len(examples) < 12:
                    examples.append(f"{f}: link feedparser {e.get('link')!r} / Crier {link!r}")
    print(f"correctness: {len(files) - len(count_diff)}/{len(files)} files with the same item count;"
          f" of their {items} items, {title_diff} titles and {link_diff} links differ")
    for f, a, b, want in count_diff:
        print(f"  count differs: {f}: feedparser {a}, Crier {b}, manifest {want}")
    for e in examples:
        print("  " + e)


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        main()

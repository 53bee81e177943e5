"""How fast does deeprecipe read a folder of photos, and train on it, beside PyTorch's way?
(Issue 17: decode at least as fast as ``torchvision.datasets.ImageFolder`` + ``DataLoader``
on 2 cores.)

What is measured
----------------
A generated folder of ``--count`` (10,000) ``--size`` (64×64) RGB JPEGs in two classes
(quality 90, each a noisy picture whose class decides where a bright square sits), cached
under ``/tmp/deeprecipe-images``. On that folder, in one process:

* **decode**: ``dr.data.load_images(folder)`` without a cache (each file opened once, by one
  decoder process per CPU; float32 ``X`` in memory), best of ``--repeats``;
* **decode and write the cache**, then **read the cache** back: what ``deeprecipe run
  --data photos/`` does the first and the second time;
* the reference, **ImageFolder + DataLoader**: one pass of ``torchvision.datasets.ImageFolder``
  with ``transforms.ToTensor()`` through ``torch.utils.data.DataLoader(batch_size=64,
  num_workers=<CPUs>)``, best of ``--repeats``. When torchvision does not import beside the
  installed torch (the only torchvision wheel for torch 2.13.0 here is a CUDA build whose
  operators fail to load beside the CPU torch), the same pass is made by a ``Dataset`` that
  does what ImageFolder's default loader does (``PIL.Image.open(f).convert("RGB")``, then
  ``ToTensor``'s ``(c, h, w)`` float in [0, 1]) over the same sorted file list, and the
  table says so;
* **training**: one epoch of the same network (``h·w·3`` → 128 ReLU → 64 ReLU → 2 softmax,
  Adam, learning rate 1e-3, batch 64) in deeprecipe on the decoded, standardized images, and
  in PyTorch fed by that DataLoader (decoding every epoch, as ImageFolder does); samples/s.

Running
-------
From the repository root (about a minute on 2 cores once the folder exists; writing the
10,000 JPEGs takes about 10 s more the first time)::

    .venv/bin/python benchmarks/images.py
    .venv/bin/python benchmarks/images.py --count 2000 --repeats 1    # quick

The exit status is 1 when deeprecipe decodes slower than the reference. The script also
times the first touch of as much memory as the decoded folder holds (float32): on some
virtual machines memory not used in the last seconds costs ~10 µs per 4 KB page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import deeprecipe as dr
from deeprecipe.data.images import list_images

ROOT = Path(tempfile.gettempdir()) / "deeprecipe-images"
CLASSES = ("cat", "dog")
BATCH = 64


def generate(count: int, size: int) -> Path:
    """``count`` JPEGs of ``size``×``size`` in two classes (kept between runs)."""
    folder = ROOT / f"{count}x{size}"
    done = folder / ".complete"
    if done.is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(0)
    for label, name in enumerate(CLASSES):
        (folder / name).mkdir(parents=True)
        for index in range(count // 2):
            pixels = rng.integers(0, 130, (size, size, 3), dtype=np.uint8)
            corner = rng.integers(0, size // 2, 2)
            top, left = corner if label == 0 else corner + size // 4
            pixels[top:top + size // 4, left:left + size // 4] += 120
            Image.fromarray(pixels).save(folder / name / f"{index:05d}.jpg", quality=90)
    done.touch()
    return folder


def best(repeats: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeats`` calls of ``work`` (seconds) and its last result; each
    call's result is let go before the next call (so the next reuses its memory)."""
    times, result = [], None
    for _ in range(repeats):
        result = None
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    print(f"  {getattr(work, '__name__', 'work')}: " + ", ".join(f"{t:.2f} s" for t in times),
          flush=True)
    return min(times), result


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


def reference_loader(folder: Path, workers: int) -> tuple[Any, str]:
    """ImageFolder + ToTensor in a DataLoader, or the same pass without torchvision."""
    import torch
    from torch.utils.data import DataLoader, Dataset

    try:
        from torchvision import datasets, transforms

        data: Any = datasets.ImageFolder(str(folder), transform=transforms.ToTensor())
        name = "torchvision ImageFolder + DataLoader"
    except (ImportError, RuntimeError):  # no torchvision, or one built for another torch
        files = list_images(folder)

        class PillowFolder(Dataset):  # type: ignore[type-arg]
            """ImageFolder's default loader and ToTensor, over the same sorted files."""

            def __len__(self) -> int:
                return len(files.files)

            def __getitem__(self, index: int) -> tuple[Any, int]:
                with open(files.files[index], "rb") as file:
                    image = Image.open(file).convert("RGB")
                tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div(255)
                return tensor, int(files.labels[index])

        data = PillowFolder()
        name = "DataLoader over ImageFolder's Pillow loading (no torchvision)"
    loader = DataLoader(data, batch_size=BATCH, num_workers=workers,
                        persistent_workers=False)
    return loader, name


def deeprecipe_epoch(X: np.ndarray, y: np.ndarray) -> float:
    """Seconds of one epoch of the network on standardized ``X``."""
    model = dr.Sequential([dr.Dense(128, "relu"), dr.Dense(64, "relu"),
                           dr.Dense(2, "softmax")], input_dim=X.shape[1], seed=0)
    start = time.perf_counter()
    model.fit(X, y, epochs=1, batch_size=BATCH, optimizer="adam", learning_rate=1e-3, seed=0)
    return time.perf_counter() - start


def torch_epoch(loader: Any, n_features: int) -> float:
    """Seconds of one epoch of the same network in PyTorch, fed by ``loader``."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(n_features, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for images, labels in loader:
        optimizer.zero_grad()
        loss(net(images), labels).backward()
        optimizer.step()
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    folder = generate(args.count, args.size)
    workers = cpus()
    n = args.count
    print(f"{n:,} {args.size}x{args.size} JPEGs in {folder}; {workers} CPUs; load average "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)

    def decode_folder() -> Any:
        return dr.data.load_images(folder)

    def decode_and_cache() -> Any:
        return dr.data.load_images(folder, cache_dir=cache)

    def read_cache() -> Any:
        return dr.data.load_images(folder, cache_dir=cache)

    def reference_pass() -> int:
        return sum(len(batch) for batch, _ in loader)

    # this machine's cost of memory touched for the first time in a while, at the size of
    # the decoded folder (float32): a part of every in-memory loader's time
    start = time.perf_counter()
    np.ones((n, args.size, args.size, 3), dtype=np.float32)
    touch = time.perf_counter() - start
    print(f"first touch of {n * args.size ** 2 * 3 * 4 / 1e6:,.0f} MB: {touch:.2f} s")
    time.sleep(5)  # the memory goes back to the host again
    print("seconds of each repeat:")
    decode, data = best(args.repeats, decode_folder)
    digest = hash(data.X.tobytes())
    data = None  # its memory is the next step's
    cache = Path(tempfile.mkdtemp(prefix="deeprecipe-images-cache-"))
    try:
        cold, _ = best(1, decode_and_cache)
        warm, data = best(args.repeats, read_cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    assert data.notes[-1].values["hit"] and hash(data.X.tobytes()) == digest
    loader, reference = reference_loader(folder, workers)
    ref_decode, _ = best(args.repeats, reference_pass)

    X = data.X.reshape(n, -1)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-7)
    ours_epoch = deeprecipe_epoch(X.astype(np.float32), data.y)
    ref_epoch = torch_epoch(loader, X.shape[1])
    load_after = os.getloadavg()

    rows = [
        ("decode (no cache)", f"{n / decode:,.0f} images/s ({decode:.2f} s)",
         f"{n / ref_decode:,.0f} images/s ({ref_decode:.2f} s)", f"{ref_decode / decode:.2f}x"),
        ("decode and write the cache (first run)", f"{n / cold:,.0f} images/s ({cold:.2f} s)",
         "", ""),
        ("read the cache (second run)", f"{n / warm:,.0f} images/s ({warm:.2f} s)", "",
         f"{ref_decode / warm:.1f}x"),
        ("one training epoch", f"{n / ours_epoch:,.0f} samples/s ({ours_epoch:.2f} s, "
         "decoded once)", f"{n / ref_epoch:,.0f} samples/s ({ref_epoch:.2f} s, decoding)",
         f"{ref_epoch / ours_epoch:.2f}x"),
    ]
    print(f"\nreference: {reference}, batch {BATCH}, num_workers={workers}; first touch "
          f"of the float32 folder's memory {touch:.2f} s")
    print("| measure | deeprecipe | reference (same run) | speed-up |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"(1 min)")
    passed = decode <= ref_decode
    print(f"{'PASS' if passed else 'FAIL'}: decoding at {ref_decode / decode:.2f}x the "
          "reference's speed (goal: >= 1x)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""Photos in folders: :func:`load_images` reads a folder with one subfolder per class (JPEG and
PNG through Pillow) as a :class:`~deeprecipe.data.io.Dataset` of images ``(m, h, w[, c])``;
:func:`read_images` reads image files at a given shape (to predict on).

Every image is resized to one size, ``image_size`` ``(h, w)`` (default: the most common size
in the folder; images of another size are stretched to it, and a note says how many). The
pixels keep their raw values (0–255, as float32); an image's EXIF orientation is applied;
transparency is dropped. The images are grey ``(h, w)`` when every one is grey, else RGB
``(h, w, 3)``. Each file is opened once (its header and pixels read together) but for those
resized. Decoding runs on ``workers`` threads (one per CPU), into the one float32 array
returned (no uint8 copy of the folder is held beside it, unless the cache is written). For
:data:`PROCESS_FILES` files or more, each thread hands its chunks to a decoder process of its
own (:mod:`deeprecipe.data.imagefile`): Pillow's per-file work in Python holds Python's lock,
so threads alone decode no faster than one. The processes are started clean (never forked
from this one, which may run other threads: JAX's, BLAS's, a progress bar's) and load only
that module, in about 0.06 s; should one fail, its thread decodes here instead.

A file that does not decode (corrupt, truncated, not an image) is **skipped and counted**
(a note names the first few); a class folder without a single usable image, a folder with
fewer than two classes and too few images are a :class:`DataFileError`. Files that are not
``.jpg``, ``.jpeg`` or ``.png`` are ignored (and counted); so are hidden files and folders.

With ``cache_dir``, the decoded pixels are kept there as ``images-<key>.npy`` (uint8) beside
a ``.json`` record, the key a SHA-256 of every file's path, byte size and modification time
and of the size asked for: a second load of the same folder reads them back and decodes
nothing. Deleting the folder only costs the next load its decoding.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..findings import Finding
from ..run.files import Format, FormatError, atomic_write
from .filebase import (
    DataFileError,
    ProgressHook,
    Throttle,
    check_rows,
    filled_once,
    needed_rows,
)
from .imagefile import (
    GREY_MODES,
    Header,
    Target,
    ask,
    decode_files,
    quiet,
    read_header,
    start_process,
    was_decoded,
)
from .io import Dataset

Process = subprocess.Popen[bytes]

__all__ = ["IMAGE_SUFFIXES", "ImageFolder", "list_images", "load_images", "read_images"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # what Pillow reads here, by suffix
CHUNK = 256  # images one task of the pool decodes
PROCESS_FILES = 1000  # files from which decoder processes pay their start (~0.06 s each)
SHOWN_FILES = 5  # skipped files a note names
CACHE = Format("deeprecipe-image-cache", 1)


@dataclass(frozen=True)
class ImageFolder:
    """A folder's images: ``files`` in class order (each class's sorted by path), ``labels``
    (``(m,)`` class indices), ``classes`` (the subfolders' names, sorted) and ``ignored``
    (files that are not JPEG or PNG)."""

    root: Path
    classes: list[str]
    files: list[Path]
    labels: np.ndarray
    ignored: int


def list_images(folder: str | Path) -> ImageFolder:
    """The images of ``folder``, one subfolder per class (searched in depth); hidden files
    and folders are left out. Raises :class:`DataFileError` for a folder without class
    subfolders or a class subfolder without images."""
    root = Path(folder)
    if not root.is_dir():
        raise DataFileError(root, "must be a folder of images (one subfolder per class).")
    subfolders = sorted(path for path in root.iterdir() if path.is_dir() and _shown(path.name))
    ignored = sum(1 for path in root.iterdir() if path.is_file() and _shown(path.name))
    if not subfolders:
        raise DataFileError(root, "has no class subfolders: it must hold one subfolder per "
                            "class, each with that class's JPEG or PNG images (photos/cat/"
                            "1.jpg, photos/dog/2.jpg). help: to predict on a folder of "
                            "images, use `deeprecipe predict`.")
    files: list[Path] = []
    counts = []
    for subfolder in subfolders:
        found, others = _images_in(subfolder)
        if not found:
            raise DataFileError(subfolder, "is a class folder without images (.jpg, .jpeg or "
                                ".png). help: add the class's images, or remove the folder.")
        files += found
        counts.append(len(found))
        ignored += others
    labels = np.repeat(np.arange(len(subfolders), dtype=np.intp), counts)
    return ImageFolder(root, [path.name for path in subfolders], files, labels, ignored)


def _shown(name: str) -> bool:
    return not name.startswith(".")


def _images_in(folder: Path) -> tuple[list[Path], int]:
    """The images under ``folder`` (sorted) and how many other files it holds."""
    images, others = [], 0
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = [name for name in subfolders if _shown(name)]  # not into hidden ones
        for name in names:
            if not _shown(name):
                continue
            if name.lower().endswith(IMAGE_SUFFIXES):
                images.append(Path(directory, name))
            else:
                others += 1
    return sorted(images), others


# --- loading -------------------------------------------------------------------------------


def load_images(
    folder: str | Path, *, image_size: tuple[int, int] | None = None,
    cache_dir: str | Path | None = None, workers: int | None = None,
    min_rows: int | None = None, min_classes: int = 2, progress: ProgressHook | None = None,
) -> Dataset:
    """Read a folder of images, one subfolder per class (its name is the class), as a
    :class:`~deeprecipe.data.io.Dataset`: ``X`` ``(m, h, w)`` or ``(m, h, w, 3)`` float32
    pixels 0–255, ``y`` class indices (``classes``: the subfolders' names, sorted).

    ``image_size`` ``(h, w)`` is the size every image is resized to (default: the most common
    one). ``cache_dir`` keeps the decoded images for the next load (see the module).
    ``workers`` threads decode (default: one per CPU this process may use), each through a
    decoder process of its own from 1,000 files (see the module). ``min_rows``
    (default: what the smallest split needs) and ``min_classes`` count usable images and
    classes. ``progress(done, total)`` counts images decoded. ``Dataset.notes`` says what was
    skipped, resized, ignored, and whether the cache was read or written. Raises
    :class:`DataFileError` (see the module).

    Example::

        photos/cat/1.jpg, photos/cat/2.png, …, photos/dog/1.jpg, …
        data = load_images("photos", image_size=(64, 64), cache_dir="runs/.cache")
        data.X.shape, data.classes                  # (m, 64, 64, 3), ['cat', 'dog']
    """
    listing = list_images(folder)
    needed = needed_rows("load_images", min_rows)
    cache = None if cache_dir is None else Path(cache_dir)
    key = _cache_key(listing, image_size)
    notes: list[Finding] = []
    stored = None if cache is None else _read_cache(cache, key, listing)
    if cache is not None and stored is not None:
        stored_pixels, keep, notes = stored
        pixels = filled_once(stored_pixels.shape)  # (the cache's array is read-only)
        np.copyto(pixels, stored_pixels)
        notes.append(Finding("images_cache", {"file": str(_cache_file(cache, key)),
                                              "hit": True, "count": len(pixels)}))
        Throttle(progress, len(pixels)).finish()
    else:
        with _Pool(_workers(workers), len(listing.files) >= PROCESS_FILES) as pool:
            pixels, keep, notes = _decode_folder(listing, image_size, pool, progress)
        if cache is not None:
            notes.append(_write_cache(cache, key, pixels, keep, notes))
    labels = listing.labels[keep]
    present = np.bincount(labels, minlength=len(listing.classes))
    for index in np.flatnonzero(present == 0):  # every image of the class was skipped
        raise DataFileError(listing.root / listing.classes[index], "is a class folder "
                            "without a readable image: every one failed to decode. help: "
                            "replace the files, or remove the folder.")
    if len(listing.classes) < min_classes:
        raise DataFileError(listing.root, f"must have at least {min_classes} class "
                            f"subfolders; received {len(listing.classes)} "
                            f"({', '.join(listing.classes)}). help: one subfolder per class.")
    check_rows(listing.root, len(pixels), needed)
    if listing.ignored:
        notes.insert(0, Finding("images_ignored", {"count": listing.ignored}))
    return Dataset(pixels, labels, [], "folder", list(listing.classes), listing.root,
                   notes=notes)


def _decode_folder(listing: ImageFolder, image_size: tuple[int, int] | None, pool: _Pool,
                   progress: ProgressHook | None
                   ) -> tuple[np.ndarray, np.ndarray, list[Finding]]:
    """``(pixels float32, the rows of listing.files kept, notes)``.

    Each file is opened once: the headers of the first :data:`SAMPLE` files of each class
    guess the size (unless ``image_size`` says it) and the colour, and every image that
    matches the guess is decoded as its header is read; the others (another size, to be
    resized; or all of them, when the guess was wrong) are decoded in a second pass.
    """
    files = listing.files
    sample = [int(index) for label in range(len(listing.classes))
              for index in np.flatnonzero(listing.labels == label)[:SAMPLE]]
    with quiet():
        known = [header for header in map(read_header, [files[i] for i in sample])
                 if isinstance(header, Header)]
    guess = _target(known, image_size)
    pixels = _empty(len(files), guess)
    first = _Decoder(files, guess, pixels, any_size=image_size is not None)
    results = pool.run(first, range(len(files)), progress)
    headers = {index: result for index, result in enumerate(results)
               if isinstance(result, Header)}
    failed = {index: result for index, result in enumerate(results) if isinstance(result, str)}
    if not headers:
        raise DataFileError(listing.root, "has no image that Pillow can read (every file "
                            "failed: " + ", ".join(_relative(listing, files[i])
                                                   for i in list(failed)[:SHOWN_FILES]) + ").")
    target = _target(list(headers.values()), image_size)
    if target == guess:
        todo = [index for index in headers if not first.done[index]]
    else:  # the sample misled: decode every image at the folder's own size and colour
        pixels, todo = _empty(len(files), target), list(headers)
    second = _Decoder(files, target, pixels, force=True)
    for index, result in zip(todo, pool.run(second, todo, None), strict=True):
        if isinstance(result, str):
            failed[index] = result
    keep = np.array([index for index in headers if index not in failed], dtype=np.intp)
    if failed:
        pixels = pixels[keep]
    return pixels, keep, _folder_notes(listing, list(headers.values()), failed, target,
                                       image_size is not None)


SAMPLE = 16  # headers read first in each class: the guess of the size and the colour


def _target(headers: Sequence[Header], image_size: tuple[int, int] | None) -> Target:
    """The size asked for, else the most common one; grey when every image is grey."""
    sizes = Counter(header.size for header in headers)
    size = image_size[::-1] if image_size is not None else (
        sizes.most_common(1)[0][0] if sizes else None)
    return Target(size, bool(headers) and all(h.mode in GREY_MODES for h in headers))


def _empty(count: int, target: Target) -> np.ndarray:
    return filled_once((count, *target.shape))


def _folder_notes(listing: ImageFolder, headers: list[Header], failed: dict[int, str],
                  target: Target, given: bool) -> list[Finding]:
    """The notes of images resized (and stretched) and of files skipped."""
    assert target.size is not None
    width, height = target.size
    sizes = Counter(header.size for header in headers)
    notes = []
    resized = sum(count for size, count in sizes.items() if size != target.size)
    stretched = sum(count for (w, h), count in sizes.items() if w * height != h * width)
    if resized:
        notes.append(Finding("images_resized", {
            "count": resized, "total": len(headers), "size": f"{height}x{width}",
            "sizes": len(sizes), "given": given, "stretched": stretched}))
    if failed:
        shown = [f"{_relative(listing, listing.files[i])} ({failed[i]})"
                 for i in sorted(failed)[:SHOWN_FILES]]
        notes.append(Finding("images_skipped", {"count": len(failed), "files": shown}))
    return notes


def _relative(listing: ImageFolder, path: Path) -> str:
    return path.relative_to(listing.root).as_posix()


class _Decoder:
    """Decodes chunks of ``files`` (:func:`~deeprecipe.data.imagefile.decode_files`, in a
    decoder process when given one) into ``out``, marking ``done``: every image when
    ``force``, else those ``target`` accepts (of any size with ``any_size``); returns each
    file's header, or why it failed."""

    def __init__(self, files: Sequence[Path], target: Target, out: np.ndarray, *,
                 any_size: bool = False, force: bool = False) -> None:
        self.files, self.target, self.out = files, target, out
        self.any_size, self.force = any_size, force
        self.done = np.zeros(len(files), dtype=bool)

    def __call__(self, slots: Sequence[int], process: Process | None = None
                 ) -> list[Header | str]:
        paths = [self.files[slot] for slot in slots]
        if process is None:
            results, data = decode_files(paths, self.target, self.any_size, self.force)
        else:
            results, data = ask(process, paths, self.target, self.any_size, self.force)
        decoded = [slot for slot, result in zip(slots, results, strict=True)
                   if was_decoded(result, self.target, self.any_size, self.force)]
        pixels = np.frombuffer(data, np.uint8).reshape(len(decoded), *self.target.shape)
        if decoded and decoded[-1] - decoded[0] == len(decoded) - 1:  # a run: no gather
            self.out[decoded[0]:decoded[-1] + 1] = pixels
        else:
            self.out[decoded] = pixels
        self.done[decoded] = True
        return results


class _Pool:
    """``count`` threads that decode chunks, each through a decoder process of its own when
    ``processes`` (all started at once, as the pool is made). A process that cannot start or
    fails leaves its share to a thread of this process: the same pixels, only slower."""

    def __init__(self, count: int, processes: bool) -> None:
        self.count = count
        self.started: list[Process] = []
        for _ in range(count if processes and count > 1 else 0):
            try:
                self.started.append(start_process())
            except OSError:
                break
        self.idle: queue.SimpleQueue[Process | None] = queue.SimpleQueue()
        for process in self.started + [None] * (count - len(self.started)):
            self.idle.put(process)

    def run(self, decode: _Decoder, slots: Sequence[int], progress: ProgressHook | None
            ) -> list[Header | str]:
        """``decode`` every slot, a chunk at a time; the results in order."""
        throttle = Throttle(progress, len(slots))
        chunks = [slots[start:start + CHUNK] for start in range(0, len(slots), CHUNK)]
        results: list[Header | str] = []
        with quiet():
            if self.count == 1 or len(chunks) <= 1:
                found: Iterable[list[Header | str]] = map(decode, chunks)
                for part in found:
                    results += part
                    throttle(len(results))
            else:
                with ThreadPoolExecutor(self.count) as pool:
                    for part in pool.map(lambda chunk: self._decode(decode, chunk), chunks):
                        results += part
                        throttle(len(results))
        throttle.finish()
        return results

    def _decode(self, decode: _Decoder, chunk: Sequence[int]) -> list[Header | str]:
        process = self.idle.get()
        try:
            if process is not None:
                try:
                    return decode(chunk, process)
                except (OSError, ValueError):  # it ended, or answered nonsense
                    process = None
            return decode(chunk)
        finally:
            self.idle.put(process)

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.started:
            with contextlib.suppress(OSError):
                process.stdin.close()  # type: ignore[union-attr]  # ends its loop
        for process in self.started:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()  # type: ignore[union-attr]


def _workers(workers: int | None) -> int:
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"load_images: workers must be a positive integer; received "
                         f"workers={workers!r}.")
    return workers


# --- the cache -----------------------------------------------------------------------------


def _cache_key(listing: ImageFolder, image_size: tuple[int, int] | None) -> str:
    """SHA-256 of the files (path, bytes, modification time) and the size asked for."""
    digest = hashlib.sha256(json.dumps([CACHE.version, image_size]).encode())
    for path in listing.files:
        stat = path.stat()
        digest.update(f"\0{_relative(listing, path)}\0{stat.st_size}\0{stat.st_mtime_ns}"
                      .encode())
    return digest.hexdigest()[:24]


def _cache_file(cache: Path, key: str, suffix: str = ".npy") -> Path:
    return cache / f"images-{key}{suffix}"


def _read_cache(cache: Path, key: str, listing: ImageFolder
                ) -> tuple[np.ndarray, np.ndarray, list[Finding]] | None:
    """The cached ``(pixels, rows kept, notes)``, or ``None`` (none, or unreadable)."""
    record_file = _cache_file(cache, key, ".json")
    if not record_file.is_file():
        return None
    try:
        record = CACHE.check(json.loads(record_file.read_text(encoding="utf-8")), "cache")
        pixels = np.load(_cache_file(cache, key), mmap_mode="r", allow_pickle=False)
        keep = np.asarray(record["keep"], dtype=np.intp)
        notes = [Finding(note["code"], note["values"]) for note in record["notes"]]
    except (OSError, ValueError, KeyError, TypeError, FormatError):
        return None  # decoded again, and written anew
    if pixels.dtype != np.uint8 or len(pixels) != len(keep) or (
            len(keep) and keep.max() >= len(listing.files)):
        return None
    return pixels, keep, notes


def _write_cache(cache: Path, key: str, pixels: np.ndarray, keep: np.ndarray,
                 notes: list[Finding]) -> Finding:
    """Write the cache (pixels first, the record last: a record means both are whole);
    the note that says where, or why not."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        atomic_write(_cache_file(cache, key),
                     lambda tmp: _save(tmp, pixels.astype(np.uint8)))  # 0-255: exact
        CACHE.write(_cache_file(cache, key, ".json"), {
            "keep": keep.tolist(), "notes": [{"code": note.code, "values": dict(note.values)}
                                             for note in notes]})
    except OSError as error:
        return Finding("images_cache_failed", {"folder": str(cache),
                                               "reason": error.strerror or str(error)})
    return Finding("images_cache", {"file": str(_cache_file(cache, key)), "hit": False,
                                    "count": len(pixels)})


def _save(path: Path, pixels: np.ndarray) -> None:
    with path.open("wb") as file:
        np.save(file, pixels, allow_pickle=False)


# --- files to predict on ---------------------------------------------------------------------


def read_images(files: Sequence[str | Path], image_shape: tuple[int, ...], *,
                workers: int | None = None, progress: ProgressHook | None = None
                ) -> tuple[np.ndarray, list[int], dict[int, str]]:
    """Image files at ``image_shape`` (``(h, w)``: grey, ``(h, w, 3)``: RGB; a model's), as
    :func:`load_images` reads them: ``(X float32 (k, *image_shape), the indices of the files
    read, {index: why it failed} for the others)``."""
    if len(image_shape) not in (2, 3) or (len(image_shape) == 3 and image_shape[2] != 3):
        raise ValueError(f"read_images: image_shape must be (h, w) or (h, w, 3); received "
                         f"image_shape={tuple(image_shape)}.")
    paths = [Path(file) for file in files]
    pixels = np.empty((len(paths), *image_shape), dtype=np.float32)
    target = Target((image_shape[1], image_shape[0]), len(image_shape) == 2)
    decode = _Decoder(paths, target, pixels, force=True)
    with _Pool(_workers(workers), len(paths) >= PROCESS_FILES) as pool:
        results = pool.run(decode, range(len(paths)), progress)
    failed = {index: result for index, result in enumerate(results) if isinstance(result, str)}
    read = [index for index in range(len(paths)) if index not in failed]
    return (pixels[read] if failed else pixels), read, failed

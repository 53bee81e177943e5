"""One image file through Pillow: its header (:func:`read_header`) and its pixels upright, in
one mode, at one size (:func:`decode_files`). :mod:`deeprecipe.data.images` reads folders
with it.

This module imports only the standard library and Pillow, so that it also runs on its own as
a **decoder process** (:func:`serve`, started by :func:`start_process`): Pillow's
per-file work in Python (parsing a JPEG's markers, building the image) holds Python's lock,
so threads decode no faster than one (measured: 7,400 64×64 JPEGs/s on one thread, 7,700 on
two), while processes share it out. A process started clean imports no more than this
module and Pillow (about 0.06 s), and is never forked from a process that runs other
threads. Pixels travel as bytes: uint8, ``(k, *Target.shape)`` for ``k`` images.
"""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image

GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
ORIENTATION = 0x0112  # the EXIF tag
# EXIF orientation -> the transpose that puts the image upright (as PIL.ImageOps.exif_transpose)
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# what Pillow raises for a file it cannot read (DecompressionBombError: a huge image)
UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True)
class Header:
    """What an image's header says: its upright ``(width, height)``, mode and orientation."""

    size: tuple[int, int]
    mode: str
    orientation: int


@dataclass(frozen=True)
class Target:
    """The ``size`` ``(width, height)`` the images are decoded at, and whether ``grey``."""

    size: tuple[int, int] | None
    grey: bool

    @property
    def mode(self) -> str:
        return "L" if self.grey else "RGB"

    @property
    def shape(self) -> tuple[int, ...]:
        """One decoded image's array shape: ``(h, w)`` or ``(h, w, 3)``."""
        width, height = self.size or (1, 1)
        return (height, width) if self.grey else (height, width, 3)

    def accepts(self, header: Header, any_size: bool) -> bool:
        """Whether an image of ``header`` is decoded at this target in a first pass: one of
        its size (or ``any_size``) and, for grey, a grey image."""
        return self.size is not None and (any_size or header.size == self.size) and (
            not self.grey or header.mode in GREY_MODES)


def read_header(path: Path) -> Header | str:
    """The header of ``path``, or why it cannot be read."""
    try:
        with Image.open(path) as image:
            return _header_of(image)
    except UNREADABLE as error:
        return reason(error)


def decode_files(paths: Sequence[Path], target: Target, any_size: bool, force: bool
                 ) -> tuple[list[Header | str], bytes]:
    """Each file's header, or why it failed, and the pixels of the files decoded, in order
    (:func:`was_decoded`): every readable one when ``force``, else those ``target`` accepts
    (of any size with ``any_size``)."""
    results: list[Header | str] = []
    pixels: list[bytes] = []
    for path in paths:
        try:
            header, decoded = _read(path, target, any_size, force)
        except UNREADABLE as error:
            results.append(reason(error))
            continue
        results.append(header)
        if decoded is not None:
            pixels.append(decoded)
    return results, b"".join(pixels)


def was_decoded(result: Header | str, target: Target, any_size: bool, force: bool) -> bool:
    """Whether :func:`decode_files` returned pixels for a file with this ``result``."""
    return isinstance(result, Header) and (force or target.accepts(result, any_size))


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Pillow's warnings (a palette's transparency, a large image) silenced (not thread-safe,
    as ``warnings.catch_warnings``: around a pool, not in its threads)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
        yield


def reason(error: Exception) -> str:
    """A short reason for a note: ``truncated`` rather than Pillow's sentence."""
    text = str(error).split("\n")[0]
    if "truncated" in text:
        return "truncated"
    if "cannot identify" in text:
        return "not an image"
    return (text[:60] or type(error).__name__).rstrip(".")


def _header_of(image: Image.Image) -> Header:
    orientation = _orientation(image)
    width, height = image.size
    if orientation in (5, 6, 7, 8):  # turned by a quarter
        width, height = height, width
    return Header((width, height), image.mode, orientation)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of a JPEG (1: upright)."""
    if image.format != "JPEG":
        return 1
    value = image.getexif().get(ORIENTATION, 1)
    return value if isinstance(value, int) and value in UPRIGHT else 1


def _read(path: Path, target: Target, any_size: bool, force: bool
          ) -> tuple[Header, bytes | None]:
    """``path``'s header and, when ``force`` or ``target`` accepts it, its pixels."""
    with Image.open(path) as image:
        header = _header_of(image)
        if not (force or target.accepts(header, any_size)):
            return header, None
        assert target.size is not None
        turned = header.orientation in (5, 6, 7, 8)
        if image.format == "JPEG":  # decode at a reduced scale when much larger (DCT scaling)
            image.draft(target.mode, target.size[::-1] if turned else target.size)
        if image.mode == target.mode:
            image.load()  # (a conversion to its own mode would copy it)
        else:
            image = image.convert(target.mode)
    if header.orientation != 1:
        image = image.transpose(UPRIGHT[header.orientation])
    if image.size != target.size:
        image = image.resize(target.size, Image.Resampling.BILINEAR)
    return header, image.tobytes()


# --- the decoder process ---------------------------------------------------------------------
# A request is one JSON line: {"paths": [...], "size": [w, h] or null, "grey", "any_size",
# "force"}; the answer one JSON line, the results (a header as [w, h, mode, orientation], a
# failure as its reason), then the decoded pixels' bytes.

# Loads this file as a module of its own (not the package, whose import costs ~0.5 s), with
# the current folder off sys.path (a user's numpy.py there must not shadow NumPy).
_BOOT = ("import sys, importlib.util as u; del sys.path[0]; "
         "s = u.spec_from_file_location('deeprecipe_imagefile', sys.argv[1]); "
         "m = u.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); "
         "m.serve()")


def start_process() -> subprocess.Popen[bytes]:
    """A decoder process (see :func:`serve`); ask it with :func:`ask`."""
    return subprocess.Popen([sys.executable, "-c", _BOOT, __file__], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def ask(process: subprocess.Popen[bytes], paths: Sequence[Path], target: Target,
        any_size: bool, force: bool) -> tuple[list[Header | str], bytes]:
    """:func:`decode_files` done by a decoder process. Raises ``OSError`` when the process
    is gone (or answers nonsense)."""
    assert process.stdin is not None and process.stdout is not None
    request = {"paths": [str(path) for path in paths], "size": target.size,
               "grey": target.grey, "any_size": any_size, "force": force}
    process.stdin.write(json.dumps(request).encode() + b"\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise OSError("the decoder process ended")
    results: list[Header | str] = [
        item if isinstance(item, str) else Header((item[0], item[1]), item[2], item[3])
        for item in json.loads(line)]
    count = sum(was_decoded(result, target, any_size, force) for result in results)
    size = count * math.prod(target.shape)
    data = process.stdout.read(size)
    if len(data) != size:
        raise OSError("the decoder process ended")
    return results, data


def serve(requests: IO[bytes] | None = None, answers: IO[bytes] | None = None) -> None:
    """Answer requests (stdin) with decoded files (stdout) until stdin closes."""
    requests = requests or sys.stdin.buffer
    answers = answers or sys.stdout.buffer
    with quiet():
        try:
            for line in requests:
                request = json.loads(line)
                target = Target(None if request["size"] is None else tuple(request["size"]),
                                request["grey"])
                results, pixels = decode_files([Path(path) for path in request["paths"]],
                                               target, request["any_size"], request["force"])
                answers.write(json.dumps([
                    result if isinstance(result, str) else [*result.size, result.mode,
                                                            result.orientation]
                    for result in results]).encode() + b"\n")
                answers.write(pixels)
                answers.flush()
        except (KeyboardInterrupt, BrokenPipeError):  # the reader stopped (Ctrl-C reaches all)
            pass

"""Reading a file named on the command line or in the environment, safely.

`read_capped(path, cap)` reads a regular file of at most `cap` bytes. It refuses what is
not a regular file (a device such as /dev/zero, a FIFO, a socket, a directory) before
reading a byte, and it never reads more than cap + 1 bytes, whatever the file system says
its size is (`st_size` of /proc files and of some devices is 0). A FIFO is opened without
blocking, so a named pipe nobody writes to cannot hang the command either.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


class FileRefused(ValueError):
    """The file is not read: not a regular file, too large or unreadable. The message
    names the file and says why."""


def describe_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def read_capped(path: str | os.PathLike[str], cap: int) -> bytes:
    """The bytes of the regular file `path`, or FileRefused if it is not a regular file,
    cannot be opened or holds more than `cap` bytes."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise FileRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(
                f"{path} is {describe_mode(mode)}, not a regular file: secman reads only "
                "regular files")
        size = os.fstat(fd).st_size
        if size > cap:
            raise FileRefused(f"{path} has {megabytes(size)}; secman reads files of up to "
                              f"{megabytes(cap)}")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        read = 0
        while read <= cap:
            chunk = os.read(fd, min(1024 * 1024, cap + 1 - read))
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
        if read > cap:
            # The file grew, or the file system's size was wrong: stop at cap + 1 bytes.
            raise FileRefused(f"{path} has more than {megabytes(cap)}; secman reads files "
                              f"of up to {megabytes(cap)}")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_capped_text(path: str | os.PathLike[str], cap: int) -> str:
    """`read_capped` decoded as UTF-8 (FileRefused if it is not)."""
    data = read_capped(path, cap)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{path} is not UTF-8 text (byte offset {exc.start})") from None


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's content, read in blocks (backups may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Reading and writing the files of bundles and builds on behalf of a request.

Every file the server reads for a request must lie inside the Jupyter root (a symlink
that leads out is refused, never followed), be a regular file (a FIFO would hang a
worker thread), and be of a bounded size. Errors name the file by its root-relative path
and never quote its content. Files the server writes for the user get the usual mode
(0666 less the umask), like any file the user's tools write.

Like paths.py, this is file system work: call it from a worker thread.
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Iterable

from .errors import ApiError
from .paths import PathOutsideRoot, contained_in_root, is_inside

MAX_JSON_FILE_BYTES = 256 * 1024 * 1024
MAX_LINKS_CHECKED = 10000


def display(root: str, path: Path) -> str:
    """How an error names a file: root-relative when it is inside the root, else its name."""
    try:
        folder = Path(os.path.realpath(path.parent)).relative_to(os.path.realpath(root))
    except (ValueError, OSError):
        return path.name
    return path.name if str(folder) == "." else f"{folder.as_posix()}/{path.name}"


def link_leaves_root(root: str, path: Path, hint: str) -> ApiError:
    return ApiError(403, f"{display(root, path)} is a symbolic link (or lies under one) that leads outside the Jupyter "
                         "root directory; edgespec does not read or write through it.", hint, "link-outside-root")


def inside_root(root: str, path: Path, hint: str) -> Path:
    """The real path of a file the server is about to use, refused when a link takes it out of the root."""
    try:
        return contained_in_root(root, path, path.name)
    except PathOutsideRoot:
        raise link_leaves_root(root, path, hint) from None


def read_bytes_in_root(root: str, path: Path, limit: int, hint: str) -> bytes:
    """The content of a regular file inside the root, at most `limit` bytes (FileNotFoundError if absent)."""
    real = inside_root(root, path, hint)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileNotFoundError(e.errno, e.strerror, str(path)) from None
        if e.errno == errno.ELOOP:  # replaced by a link since it was resolved
            raise link_leaves_root(root, path, hint) from None
        raise os_problem(e, "read", display(root, path), hint) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ApiError(422, f"{display(root, path)} is not a regular file (it is a {_kind(info.st_mode)}).", hint,
                           "not-a-regular-file")
        if info.st_size > limit:
            raise ApiError(422, f"{display(root, path)} is {info.st_size} bytes, more than the {limit} bytes "
                                "edgespec reads from such a file.", hint, "file-too-large")
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise os_problem(e, "read", display(root, path), hint) from None
    if len(data) > limit:
        raise ApiError(422, f"{display(root, path)} grew past {limit} bytes while it was read.", hint, "file-too-large")
    return data


def read_json_in_root(root: str, path: Path, hint: str, limit: int = MAX_JSON_FILE_BYTES) -> Any:
    """A JSON file inside the root; errors say where it is broken, never what it holds."""
    data = read_bytes_in_root(root, path, limit, hint)
    return parse_json_file(data, display(root, path), hint)


def parse_json_file(data: bytes, shown_name: str, hint: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(422, f"{shown_name} is not UTF-8 text (a bad byte at offset {e.start}).", hint, "invalid-json")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ApiError(422, f"{shown_name} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).", hint,
                       "invalid-json") from None
    except RecursionError:
        raise ApiError(422, f"{shown_name} nests its JSON too deeply to be read.", hint, "invalid-json") from None


def refuse_links_out_of_root(root: str, directory: Path, hint: str) -> None:
    """Refuse a directory one of whose entries is a symlink leading outside the root."""
    try:
        entries = os.scandir(directory)
    except FileNotFoundError:
        return
    except OSError as e:
        raise os_problem(e, "list", display(root, directory), hint) from None
    real_root = Path(os.path.realpath(root))
    with entries:
        for count, entry in enumerate(entries):
            if count >= MAX_LINKS_CHECKED:
                break
            if entry.is_symlink() and not is_inside(real_root, Path(os.path.realpath(entry.path))):
                raise link_leaves_root(root, Path(entry.path), hint)


def named_files_in_root(root: str, directory: Path, names: Iterable[Any], hint: str) -> None:
    """Refuse file names (from a manifest) that lead outside the root, by `..` or by a link."""
    for name in names:
        if isinstance(name, str) and name:
            inside_root(root, directory / name, hint)


def write_atomically(destination: Path, write: Callable[[BinaryIO], None], prefix: str) -> None:
    """Write a file whole or not at all: into a temporary file beside it, then rename over it.

    The temporary file is created with mode 0666 less the umask, as the user's own tools
    would create it (tempfile.mkstemp makes 0600 files, which other users cannot read).
    Raises OSError when the directory cannot take the file.
    """
    folder = destination.parent
    for _ in range(100):
        tmp = folder / f"{prefix}{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def os_problem(e: OSError, doing: str, where: str, hint: str = "") -> ApiError:
    """An OSError as a message naming the file and the cause (errno), with the fix for it."""
    number = e.errno
    reason = os.strerror(number) if number else "an operating system error"
    if number in (errno.EACCES, errno.EPERM, errno.EROFS):
        if doing.startswith("write"):
            return ApiError(409, f"Cannot {doing} {where}: {reason}.",
                            f"Make {where} writable for the user running Jupyter (chmod u+w), "
                            "or copy the build to a directory you can write to and try again.", "not-writable")
        return ApiError(409, f"Cannot {doing} {where}: {reason}.",
                        f"Make {where} readable for the user running Jupyter (chmod u+r).", "not-readable")
    if number in (errno.ENOSPC, errno.EDQUOT):
        return ApiError(507, f"Cannot {doing} {where}: {reason}.", "Free some space on that disk, then try again.",
                        "disk-full")
    return ApiError(500, f"Cannot {doing} {where}: {reason} (errno {number}).", hint or "See the Jupyter server log.",
                    "os-error")


def _kind(mode: int) -> str:
    kinds: Dict[Callable[[int], bool], str] = {stat.S_ISDIR: "directory", stat.S_ISFIFO: "named pipe",
                                                stat.S_ISSOCK: "socket", stat.S_ISCHR: "character device",
                                                stat.S_ISBLK: "block device"}
    return next((name for test, name in kinds.items() if test(mode)), "special file")

"""Mistakes in the user's code, arguments, files and disks are told as theirs: one message naming the
file and line, or the path and errno, and the fix; never "this is a bug in edgespec" (issue 10)."""
import os
import resource
import subprocess
from pathlib import Path

import pytest

from capture_safety_helpers import (BIG_MODEL, assert_user_error, error_of, events, run, staging_dirs,
                                    unprivileged)


def user_file(tmp_path: Path, text: str, name: str = "net.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def capture(tmp_path, model, *extra, **kwargs):
    shape = ["--input-shape", "1x8"] if model.endswith(":build") else []  # .tflite files have their own
    return run(["capture", model, *shape, "--out", str(tmp_path / "out"), "--json", *extra], cwd=tmp_path, **kwargs)


FACTORIES = {
    "syntax": ("import torch\n\n\ndef build(:\n    return None\n", "net.py:4", "SyntaxError"),
    "factory raises": ("import torch\n\n\ndef helper():\n    raise ValueError('no weights for this size')\n\n\n"
                       "def build():\n    return helper()\n",
                       "calling your factory build() raised ValueError: no weights for this size at net.py:5", None),
    "import raises": ("import torch\nSIZE = undefined_name + 1\n\n\ndef build():\n    return None\n",
                      "importing net.py raised NameError: name 'undefined_name' is not defined at net.py:2", None),
    "missing dependency": ("import torch\nimport not_installed_anywhere_xyz\n\n\ndef build():\n    return None\n",
                           "ModuleNotFoundError: No module named 'not_installed_anywhere_xyz' at net.py:2", None),
    "script exits": ("import sys\nimport torch\nsys.exit(2)\n\n\ndef build():\n    return None\n",
                     "importing net.py called sys.exit(2) at net.py:3", "__main__"),
}


@pytest.mark.parametrize("case", sorted(FACTORIES))
def test_failures_of_the_users_own_code_name_their_file_and_line(tmp_path, case):
    text, fragment, more = FACTORIES[case]
    user_file(tmp_path, text)
    done = capture(tmp_path, "net.py:build")
    assert_user_error(done, fragment, *([more] if more else []))
    assert not (tmp_path / "out").exists() and staging_dirs(tmp_path) == []


def test_a_syntax_error_in_an_imported_module_names_that_module(tmp_path):
    user_file(tmp_path, "x = (1,\n", "helpers_of_mine.py")
    user_file(tmp_path, "import torch\nimport helpers_of_mine\n\n\ndef build():\n    return None\n", "modelpkg.py")
    done = capture(tmp_path, "modelpkg:build")  # package.module:FACTORY
    assert_user_error(done, "helpers_of_mine.py:1", "SyntaxError")


@pytest.mark.parametrize("shape, fragments", [
    ("1x3x100000x100000", ["input shape '1x3x100000x100000' is 112 GiB of float32 values", "1.0 GiB"]),
    ("x".join(["1"] * 20), ["has 20 dimensions", "at most 8"]),
    ("1x" + "9" * 5000, ["of float32 values, more than the 1.0 GiB"]),
])
def test_an_input_shape_too_large_to_hold_is_refused_with_its_size_and_the_limit(tmp_path, shape, fragments):
    done = run(["capture", "torchvision:resnet18", "--input-shape", shape, "--out", str(tmp_path / "out")],
               cwd=tmp_path)
    assert_user_error(done, *fragments)
    keras = run(["capture", "keras:MobileNetV2", "--input-shape", shape, "--out", str(tmp_path / "k"), "--json"],
                cwd=tmp_path)
    assert_user_error(keras, *fragments)


def test_model_files_that_are_missing_directories_fifos_or_unreadable(tmp_path):
    user_file(tmp_path, BIG_MODEL, "models.py")
    (tmp_path / "dir.onnx").mkdir()
    os.mkfifo(tmp_path / "pipe.tflite")
    locked = user_file(tmp_path, "def build():\n    pass\n", "locked.py")
    locked.chmod(0)
    assert_user_error(capture(tmp_path, "absent.tflite"), "absent.tflite does not exist")
    assert_user_error(capture(tmp_path, "dir.onnx"), "dir.onnx is a directory, not a file")
    assert_user_error(capture(tmp_path, "pipe.tflite", timeout=60), "pipe.tflite is a FIFO, not a file")
    assert_user_error(capture(tmp_path, "locked.py:build", prefix=unprivileged()),
                      "cannot read locked.py: Permission denied (EACCES)")


def test_a_read_only_output_directory_names_the_path_and_errno(tmp_path):
    user_file(tmp_path, BIG_MODEL, "models.py")
    parent = tmp_path / "readonly"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        done = run(["capture", "models.py:small", "--input-shape", "1x8", "--out", str(parent / "b"), "--json"],
                   cwd=tmp_path, prefix=unprivileged())
    finally:
        parent.chmod(0o755)
    error = error_of(done)
    assert_user_error(done, f"cannot write the bundle {parent / 'b'}: Permission denied (EACCES)")
    assert error["code"] == "write_failed" and error["details"]["errno"] == "EACCES"
    assert list(parent.iterdir()) == []


def test_a_file_size_limit_names_the_file_and_errno(tmp_path):
    user_file(tmp_path, BIG_MODEL, "models.py")

    def limit_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    done = run(["capture", "models.py:big", "--input-shape", "1x4096", "--out", str(tmp_path / "b"), "--json"],
               cwd=tmp_path, preexec_fn=limit_files)
    assert_user_error(done, "File too large (EFBIG) at", "weights.safetensors", "ulimit -f")
    assert not (tmp_path / "b").exists() and staging_dirs(tmp_path) == []


@pytest.fixture
def small_filesystem(tmp_path):
    """A 1 MiB tmpfs (needs root; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_names_the_path_and_errno(tmp_path, small_filesystem):
    user_file(tmp_path, BIG_MODEL, "models.py")
    done = run(["capture", "models.py:big", "--input-shape", "1x4096", "--out", str(small_filesystem / "b"), "--json"],
               cwd=tmp_path)
    error = error_of(done)
    assert_user_error(done, f"cannot write the bundle {small_filesystem / 'b'}: No space left on device (ENOSPC) at "
                            f"{small_filesystem}", "free space")
    assert error["details"]["errno"] == "ENOSPC"
    assert list(small_filesystem.iterdir()) == []


def test_a_read_only_file_system_names_the_path_and_errno(tmp_path, small_filesystem):
    user_file(tmp_path, BIG_MODEL, "models.py")
    subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)
    done = run(["capture", "models.py:small", "--input-shape", "1x8", "--out", str(small_filesystem / "b"), "--json"],
               cwd=tmp_path)
    assert_user_error(done, "Read-only file system (EROFS)", "read-only")


@pytest.mark.parametrize("args, fragment", [
    (["--seed", "-1"], "argument --seed: -1 is not between 0 and 4294967295"),
    (["--seed", "1" * 5000], "is not an integer"),
    (["--recalibrate", "-5"], "argument --recalibrate: -5 is not between 0 and 10000"),
])
def test_out_of_range_numbers_are_usage_errors(tmp_path, args, fragment):
    done = run(["capture", "torchvision:resnet18", *args, "--json"], cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    (error,) = [e for e in events(done.stdout) if e["event"] == "error"]
    assert error["code"] == "usage" and fragment in error["message"]


def test_an_invalid_name_is_refused_with_the_rule_before_anything_runs(tmp_path):
    for name in ("my model", "../escape", "x\" >&2; touch PWNED", "-rf", "a" * 129):
        done = run(["capture", "torchvision:resnet18", f"--name={name}", "--out", str(tmp_path / "b"), "--json"],
                   cwd=tmp_path)
        assert_user_error(done, "is not a valid bundle name", "1 to 128 letters, digits, '_', '.' or '-'")
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path / "PWNED").exists()

"""The Python readers of bundle files refuse what the fuzzers found and what is not a regular file,
with one clear error: every regression input of test/fuzz/corpus, FIFOs, an oversized graph.json."""
import os
import shutil
import threading
from pathlib import Path

import pytest

from edgespec import BundleError, validate_bundle
from edgespec.safetensors_header import SafetensorsFormatError, read_safetensors_header

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
SAFETENSORS_REGRESSIONS = sorted((FUZZ / "corpus" / "safetensors").glob("regression-*"))
GRAPH_REGRESSIONS = sorted((FUZZ / "corpus" / "graph_json").glob("regression-*"))


@pytest.fixture
def bundle(tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(FUZZ / "fixture_bundle", copy)
    shutil.copyfile(FUZZ / "corpus" / "graph_json" / "seed-fixture.json", copy / "graph.json")
    return copy


def finishes(call, seconds=10):
    """call() in a daemon thread; its exception, or a failure if it blocks."""
    outcome = {}

    def run():
        try:
            call()
        except BaseException as e:  # handed to the test as it was raised
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    return outcome.get("error")


def test_the_fixture_bundle_validates(bundle):
    assert validate_bundle(bundle)["name"] == "fuzz_fixture"


@pytest.mark.parametrize("seed", SAFETENSORS_REGRESSIONS, ids=lambda p: p.name)
def test_safetensors_regressions_are_refused_clearly(seed):
    with pytest.raises(SafetensorsFormatError) as caught:
        read_safetensors_header(seed)
    assert 0 < len(str(caught.value)) < 500


# what the message names, where the seed's problem is the first one the validator meets
GRAPH_PROBLEMS = {"regression-scale-nan.json": "graph.json is not valid JSON (NaN is not a JSON number)",
                  "regression-deep.json": "graph.json nests arrays or objects too deeply",
                  "regression-long-op.json": "more characters)"}


@pytest.mark.parametrize("seed", GRAPH_REGRESSIONS, ids=lambda p: p.name)
def test_graph_json_regressions_are_refused_clearly(bundle, seed):
    shutil.copyfile(seed, bundle / "graph.json")
    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)
    assert 0 < len(caught.value.message) < 2500 and caught.value.hint
    assert GRAPH_PROBLEMS.get(seed.name, "") in caught.value.message


def test_safetensors_header_of_a_fifo_does_not_block(tmp_path):
    fifo = tmp_path / "weights.safetensors"
    os.mkfifo(fifo)
    error = finishes(lambda: read_safetensors_header(fifo))
    assert isinstance(error, SafetensorsFormatError) and "is not a regular file" in str(error)


@pytest.mark.parametrize("name", ["graph.json", "weights.safetensors", "reference.safetensors"])
def test_bundle_file_that_is_a_fifo(bundle, name):
    (bundle / name).unlink()
    os.mkfifo(bundle / name)
    error = finishes(lambda: validate_bundle(bundle))
    assert isinstance(error, BundleError)
    assert f"{name} is not a regular file (a directory, FIFO or device)" in error.message


def test_oversized_graph_json(bundle):
    with open(bundle / "graph.json", "r+b") as f:
        f.truncate(65 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(BundleError, match=r"graph.json is 68157440 bytes, more than the 67108864 a graph can take"):
        validate_bundle(bundle)

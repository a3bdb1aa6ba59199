"""Constants and small helpers shared by the capture tests."""
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"

TORCHVISION_MODELS = ["mobilenet_v2", "mobilenet_v3_small", "resnet18", "squeezenet1_1", "shufflenet_v2_x0_5",
                      "efficientnet_b0"]
SEED = 0


@dataclass
class Captured:
    model: object
    inputs: tuple
    result: object

    @property
    def path(self) -> Path:
        return self.result.path


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line number of the first line of `path` that contains `fragment`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in {path}")


def source_of(path: Path, fragment: str) -> str:
    """How capture names that line: file:line, the file shortened as edgespec shortens it."""
    from edgespec.capture.provenance import short_path

    return f"{short_path(str(path))}:{line_of(path, fragment)}"

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def make_tree(tmp_path):
    """A copy of the Makefile and the code in a temporary folder, to run make there with a .env of the test's."""
    tree = tmp_path / "repo"
    tree.mkdir()
    shutil.copy2(REPO / "Makefile", tree / "Makefile")
    for folder in ("stages", "runpod"):
        shutil.copytree(REPO / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tree

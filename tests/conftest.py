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


@pytest.fixture(scope="module")
def run_root(tmp_path_factory):
    """A module's folder for its real training run: MEDTUNE_ARTIFACTS_DIR points at run_root/artifacts until the
    module's last test is done, so each stage writes its runs there."""
    root = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDTUNE_ARTIFACTS_DIR", str(root / "artifacts"))
        yield root

"""The wheels a bare GPU machine lacks for the training and evaluation stages, fetched here for its Python and
unpacked into one folder that imports like installed packages (used by stages/gpu_bundle.py)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

# What a machine with torch, transformers, peft, accelerate, pandas, pyarrow, scipy, scikit-learn, matplotlib,
# sentence-transformers and tensorboard lacks for the training and evaluation stages (versions: the GPU pins).
GPU_WHEELS = ("trl==1.15.0", "datasets==4.8.5", "dill==0.4.1", "multiprocess==0.70.19", "xxhash==4.1.0",
              "fsspec==2026.2.0", "pydantic==2.14.3", "pydantic_core==2.50.4", "annotated-types==0.8.0",
              "typing-inspection==0.4.5", "gguf==0.19.0", "nltk==3.10.4", "bitsandbytes==0.50.2",
              "ftfy==6.3.1", "wcwidth==0.9.4")  # ftfy: medtune.data.clean (the distill stage)
# EleutherAI's lm-evaluation-harness for the optional cross-check (stages/crosscheck_lmeval.py) and what it needs
LMEVAL_WHEELS = ("lm_eval==0.4.13", "evaluate==0.4.6", "sacrebleu==2.6.0", "pytablewriter==0.38.0",
                 "DataProperty==0.37.0", "mbstrdecoder==1.1.5", "pathvalidate==3.3.1", "tabledata==0.0.26",
                 "typepy==0.3.1", "chardet==6.0.0.post1", "dominate==2.9.1", "Logbook==1.10.1", "msgfy==0.2.1",
                 "more-itertools==11.2.1", "portalocker==4.4.2", "colorama==0.4.6", "lxml==6.1.3", "tabulate==0.10.0",
                 "pytz==2026.6", "aiohttp==3.14.5", "aiohappyeyeballs==2.7.1", "aiosignal==1.4.0", "attrs==26.1.0",
                 "frozenlist==1.8.0", "multidict==7.2.1", "propcache==0.5.4", "yarl==1.25.1")
BUILT_WHEELS = ("rouge-score==0.1.2", "sqlitedict==2.1.0", "word2number==1.1")  # sdist only on PyPI: built here (pure Python)
ALL_WHEELS = (*GPU_WHEELS, *LMEVAL_WHEELS, *BUILT_WHEELS)


def download_wheels(dest: Path, python: str) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28)] + ["--platform=manylinux2014_x86_64"]
    pip = [sys.executable, "-m", "pip", "--quiet"]
    subprocess.run([*pip, "download", "--no-deps", "--only-binary=:all:", f"--python-version={python}",
                    "--implementation=cp", *platforms, "-d", str(dest), *GPU_WHEELS, *LMEVAL_WHEELS], check=True)
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dest), *BUILT_WHEELS], check=True)
    return sorted(dest.glob("*.whl"))


def unpack_wheels(wheels: list[Path], site: Path, cuda_major: str) -> None:
    """Wheels are zip files: unpacked into one folder they import like an installed package."""
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as z:
            z.extractall(site)
    # bitsandbytes ships a library per CUDA version (about 10 MB each): keep the machine's and the CPU one
    for lib in (site / "bitsandbytes").glob("libbitsandbytes_cuda*.so"):
        if not lib.name.startswith(f"libbitsandbytes_cuda{cuda_major}"):
            lib.unlink()

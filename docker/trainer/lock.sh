#!/usr/bin/env bash
# Regenerate constraints-gpu.txt: resolve requirements-gpu.txt for the trainer image's platform
# (CPython 3.12, manylinux x86_64) without installing anything. Needs pip >= 23 and PyPI.
# rouge-score ships only an sdist (no platform resolution possible): its pins come from ../../constraints.txt.
set -euo pipefail
cd "$(dirname "$0")"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
platforms=(--platform manylinux2014_x86_64 --platform linux_x86_64)
for minor in $(seq 17 39); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
grep -v '^rouge-score' requirements-gpu.txt > "$tmp/req.txt"
python3 -m pip install --isolated ${PIP_CERT:+--cert "$PIP_CERT"} --dry-run --ignore-installed --quiet --report "$tmp/report.json" \
  --python-version 3.12 --only-binary :all: "${platforms[@]}" --target "$tmp/t" -r "$tmp/req.txt"
python3 - "$tmp/report.json" <<'PY'
import json, sys
pins = {i["metadata"]["name"]: i["metadata"]["version"] for i in json.load(open(sys.argv[1]))["install"]}
norm = lambda n: n.lower().replace("_", "-")
have = {norm(n) for n in pins}
for line in open("../../constraints.txt"):
    name, _, version = line.strip().partition("==")
    if version and norm(name) in {"rouge-score", "absl-py", "nltk", "six", "click", "joblib", "regex", "tqdm"} \
            and norm(name) not in have:
        pins[name] = version
with open("constraints-gpu.txt", "w") as out:
    out.write("# Every package of the trainer image, pinned: pip's resolution of requirements-gpu.txt for CPython 3.12\n"
              "# on manylinux x86_64 (regenerate with docker/trainer/lock.sh after changing requirements-gpu.txt).\n")
    out.writelines(f"{n}=={v}\n" for n, v in sorted(pins.items(), key=lambda x: x[0].lower()))
print(f"constraints-gpu.txt: {len(pins)} pins")
PY

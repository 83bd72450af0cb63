"""Export stage: the merged model -> GGUF files (f16, then quantized) and an Ollama Modelfile.

    make export                                       # artifacts/<run>/merged -> artifacts/<run>/gguf/
    python stages/export.py run=my-run quantizations=[q8_0]
    python stages/export.py source=base preset=smollm2-135m   # the base preset (no training) -> artifacts/base-<preset>/

Steps: convert_hf_to_gguf.py (pinned llama.cpp, `make llama-cpp`) writes the f16 GGUF; its metadata
is checked against the tokenizer (chat template, end-of-turn id) and fixed when the converter got it
wrong; llama-quantize writes each quantization; llama-perplexity scores held-out reference answers on
every file and warns when a quantization loses more than the threshold. Outputs: artifacts/<run>/gguf/
(<run>-<quant>.gguf files, quant_check.json, manifest.json with sizes and SHA-256), artifacts/<run>/Modelfile
and the model card artifacts/<run>/README.md. `source=base` writes into artifacts/base-<preset>/ instead,
so exporting the base model never overwrites a trained run's files.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from medtune import llamacpp
from medtune.config import StrictModel, stage_cli
from medtune.errors import StageError
from medtune.files import atomic_dir, make_manifest, read_jsonl, sha256_file, write_json
from medtune.model_card import write_model_card
from medtune.model_spec import resolve_model
from medtune.modelfile import TemplateError, modelfile, write_modelfile
from medtune.models import get_preset, prepare, preset_of
from medtune.paths import artifacts_dir, configs_dir, data_dir
from medtune.stage import logger, stage_main

DEFAULT_CONFIG = configs_dir() / "export.yaml"


class CheckSection(StrictModel):
    enabled: bool = True
    max_tokens: int = 1024
    seed: int = 0
    ctx: int = 128
    max_ppl_increase_pct: float = 10.0


class ExportConfig(StrictModel):
    run: str = "smollm2-135m-lora-cpu"
    source: str = "merged"
    preset: str | None = None
    outtype: str = "f16"
    quantizations: list[str] = ["q8_0", "q5_k_m", "q4_k_m"]
    modelfile_quantization: str = "q8_0"
    num_ctx: int = 2048
    check: CheckSection = CheckSection()


class ExportError(StageError):
    pass


log = logger("export")


def resolve_source(cfg: ExportConfig, run_dir: Path) -> tuple[Path, str]:
    """The HF model folder to convert and the preset it came from."""
    preset = cfg.preset
    manifest = run_dir / "manifest.json"
    if preset is None and manifest.is_file():  # the run's training config names its base model
        preset = json.loads(manifest.read_text()).get("config", {}).get("model", {}).get("preset")
    if cfg.source == "merged":
        src = run_dir / "merged"
        if not (src / "config.json").is_file():
            raise ExportError(f"{src}: no merged model; run `make train` first, or export the base "
                              "model with `python stages/export.py source=base preset=<name>`")
        preset = preset or preset_of(str(src))
    elif cfg.source == "base":
        if preset is None:
            raise ExportError("source=base needs the preset to export: pass preset=<name>")
        src = Path(prepare(preset))
        if not src.is_dir():
            raise ExportError(f"preset {preset!r} is a hub model ({src}); download it and pass source=<folder>")
    else:
        src = Path(cfg.source)
        if not (src / "config.json").is_file():
            raise ExportError(f"source={cfg.source}: no config.json there (need a Hugging Face model folder)")
        preset = preset or preset_of(str(src))
    return src, preset


def output_dir(cfg: ExportConfig, preset: str) -> Path:
    """Where the export goes: the run's folder, or base-<preset>/ for the untrained base model."""
    return artifacts_dir() / (f"base-{preset}" if cfg.source == "base" else cfg.run)


def run_tool(cmd: list, log_path: Path) -> str:
    """Run a llama.cpp tool, keep its output in a log file, and fail with the log's tail."""
    with open(log_path, "w", encoding="utf-8") as log_file:  # written as it runs, to follow slow steps
        result = subprocess.run([str(c) for c in cmd], stdout=log_file, stderr=subprocess.STDOUT, text=True)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-15:])
        tool = Path(str(cmd[1] if cmd[0] == sys.executable else cmd[0])).name
        raise ExportError(f"{tool} failed (exit {result.returncode}); log {log_path}:\n{tail}")
    return output


def gguf_metadata(path: Path) -> dict:
    """The few GGUF keys the export checks: chat template and special-token ids."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    wanted = ("tokenizer.chat_template", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
              "tokenizer.ggml.bos_token_id", "tokenizer.ggml.padding_token_id", "general.architecture")
    out = {}
    for key in wanted:
        field = reader.get_field(key)
        if field is not None:
            out[key] = field.contents()
    return out


def check_metadata(path: Path, tokenizer, end_of_turn: str, workdir: Path) -> dict:
    """Make the GGUF carry the training chat template and stop on the end-of-turn token; fix it if not."""
    meta = gguf_metadata(path)
    eot_id = tokenizer.convert_tokens_to_ids(end_of_turn)
    fixes = []
    args = []
    if meta.get("tokenizer.chat_template") != tokenizer.chat_template:
        template_file = workdir / "chat_template.jinja"
        template_file.write_text(tokenizer.chat_template, encoding="utf-8")
        args += ["--chat-template-file", template_file]
        fixes.append("chat_template")
    if eot_id not in (meta.get("tokenizer.ggml.eos_token_id"), meta.get("tokenizer.ggml.eot_token_id")):
        args += ["--special-token", "eot", end_of_turn]
        fixes.append(f"eot_token_id={eot_id}")
    if fixes:
        log(f"fixing GGUF metadata: {', '.join(fixes)}")
        fixed = path.with_suffix(".fixed.gguf")
        script = llamacpp.source_dir() / "gguf-py" / "gguf" / "scripts" / "gguf_new_metadata.py"
        run_tool([sys.executable, script, path, fixed, "--force", *args], workdir / "fix_metadata.log")
        fixed.replace(path)
        meta = gguf_metadata(path)
        if eot_id not in (meta.get("tokenizer.ggml.eos_token_id"), meta.get("tokenizer.ggml.eot_token_id")):
            raise ExportError(f"{path}: end-of-turn id {eot_id} still missing from the GGUF metadata")
    return {"end_of_turn": end_of_turn, "end_of_turn_id": eot_id, "fixed": fixes,
            "eos_token_id": meta.get("tokenizer.ggml.eos_token_id"),
            "eot_token_id": meta.get("tokenizer.ggml.eot_token_id"),
            "chat_template_matches_tokenizer": meta.get("tokenizer.chat_template") == tokenizer.chat_template}


def reference_answers(cfg: CheckSection, tokenizer) -> tuple[str, Path, int, int]:
    """Held-out reference answers (last assistant turn of shuffled test rows), up to cfg.max_tokens tokens."""
    path = data_dir() / "processed" / "test.jsonl"
    rows = list(read_jsonl(path, required={"messages": list}))
    random.Random(cfg.seed).shuffle(rows)
    answers, n_tokens = [], 0
    for row in rows:
        last = [m for m in row["messages"] if isinstance(m, dict) and m.get("role") == "assistant"]
        if not last:
            continue
        answer = last[-1]["content"].strip()
        answers.append(answer)
        n_tokens += len(tokenizer(answer + "\n\n")["input_ids"])
        if n_tokens >= cfg.max_tokens:
            break
    return "\n\n".join(answers) + "\n", path, len(answers), n_tokens


_PPL = re.compile(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)")


def perplexity(gguf: Path, text_file: Path, ctx: int, log_path: Path) -> dict:
    output = run_tool([llamacpp.binary("llama-perplexity"), "-m", gguf, "-f", text_file, "-c", ctx,
                       "-t", os.cpu_count() or 2, "-b", ctx], log_path)
    match = _PPL.search(output)
    if not match:
        raise ExportError(f"no 'Final estimate' in llama-perplexity output ({log_path})")
    ppl = float(match.group(1))
    return {"ppl": ppl, "ppl_stderr": float(match.group(2)), "mean_nll": round(math.log(ppl), 5)}


def quantization_check(cfg: ExportConfig, files: dict[str, Path], tokenizer, out: Path) -> dict:
    text, source, n, n_tokens = reference_answers(cfg.check, tokenizer)
    text_file = out / "quant_check_answers.txt"
    text_file.write_text(text, encoding="utf-8")
    ctx = min(cfg.check.ctx, n_tokens // 4)  # llama-perplexity needs at least 2 chunks; we want 4+
    if ctx < 16:
        raise ExportError(f"{source}: only {n_tokens} tokens of reference answers, too few to score")
    if ctx < cfg.check.ctx:
        log(f"quantization check: {n_tokens} tokens of answers, chunk size lowered to {ctx}")
    results = {}
    for name, path in files.items():
        results[name] = perplexity(path, text_file, ctx, out / f"perplexity_{name}.log")
        log(f"perplexity {name}: {results[name]['ppl']:.4f}")
    base = results[cfg.outtype]["ppl"]
    warnings = []
    for name, r in results.items():
        r["ppl_increase_pct"] = round(100 * (r["ppl"] / base - 1), 3)
        if r["ppl_increase_pct"] > cfg.check.max_ppl_increase_pct:
            warnings.append(f"{name} raises perplexity by {r['ppl_increase_pct']:.1f}% over {cfg.outtype} "
                            f"(threshold {cfg.check.max_ppl_increase_pct}%)")
    for w in warnings:
        log(f"WARNING: {w}")
    text_file.unlink()  # a copy of the data set does not belong in the artifacts
    return {"reference": cfg.outtype, "data": str(source), "answers": n, "tokens": n_tokens, "ctx": ctx,
            "results": results, "warnings": warnings}


def export(cfg: ExportConfig) -> Path:
    started = time.time()
    run_dir = artifacts_dir() / cfg.run
    src, preset_name = resolve_source(cfg, run_dir)
    preset = get_preset(preset_name)
    if cfg.modelfile_quantization not in [cfg.outtype, *cfg.quantizations]:
        raise ExportError(f"modelfile_quantization={cfg.modelfile_quantization} is not among the exported "
                          f"files ({cfg.outtype}, {', '.join(cfg.quantizations)})")
    convert = llamacpp.convert_script()
    quantize = llamacpp.binary("llama-quantize")
    spec = resolve_model(str(src), preset.name)  # slow import of transformers: after the cheap checks
    if not spec.own_template:  # the GGUF is converted from the folder's own files, template included
        raise ExportError(f"{src}: the tokenizer has no chat template; the GGUF would not know how to chat")
    tokenizer, end_of_turn, stops = spec.tokenizer, spec.end_of_turn, list(spec.stop_strings)
    out_dir = output_dir(cfg, preset.name)
    stem = out_dir.name  # file names carry the run, so GGUFs of two runs never share a name
    timings = {}

    log(f"exporting {src} (preset {preset.name}) to {out_dir / 'gguf'}")
    with atomic_dir(out_dir / "gguf") as out:
        files = {cfg.outtype: out / f"{stem}-{cfg.outtype}.gguf"}
        t0 = time.time()
        run_tool([sys.executable, convert, src, "--outtype", cfg.outtype, "--outfile", files[cfg.outtype]],
                 out / "convert.log")
        timings["convert_s"] = round(time.time() - t0, 2)
        log(f"converted to {files[cfg.outtype].name} in {timings['convert_s']} s")
        metadata = check_metadata(files[cfg.outtype], tokenizer, end_of_turn, out)

        for quant in cfg.quantizations:
            t0 = time.time()
            files[quant] = out / f"{stem}-{quant}.gguf"
            run_tool([quantize, files[cfg.outtype], files[quant], quant.upper(), os.cpu_count() or 2],
                     out / f"quantize_{quant}.log")
            timings[f"quantize_{quant}_s"] = round(time.time() - t0, 2)
            log(f"quantized {quant} in {timings[f'quantize_{quant}_s']} s")

        check = None
        if cfg.check.enabled:
            t0 = time.time()
            check = quantization_check(cfg, files, tokenizer, out)
            timings["quant_check_s"] = round(time.time() - t0, 2)
            write_json(out / "quant_check.json", check)

        try:  # before the GGUF folder is swapped in, so a failure leaves the old export whole
            modelfile_text = modelfile(f"gguf/{files[cfg.modelfile_quantization].name}", tokenizer, stops,
                                       preset.license, cfg.num_ctx)
        except TemplateError as e:
            raise ExportError(f"Modelfile: {e}") from None
        outputs = {name: {"file": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p)}
                   for name, p in files.items()}
        write_json(out / "manifest.json", make_manifest(
            "export", cfg, {"config": src / "config.json", "model": src / "model.safetensors"}, started,
            source=str(src), preset=preset.name, files=outputs, metadata=metadata, stops=stops,
            quant_check=check, timings=timings, llama_cpp=f"{llamacpp.SDIST_NAME}=={llamacpp.SDIST_VERSION}"))

    write_modelfile(out_dir / "Modelfile", modelfile_text)
    card = write_model_card(out_dir, preset)
    for name, info in outputs.items():
        log(f"{info['file']}: {info['bytes'] / 1e6:.1f} MB sha256 {info['sha256'][:16]}")
    log(f"wrote {out_dir / 'gguf'}, {out_dir / 'Modelfile'} and {card} in {time.time() - started:.1f} s")
    return out_dir


@stage_main
def main(argv: list[str] | None = None) -> int:
    cfg, _ = stage_cli(ExportConfig, __doc__.splitlines()[0], DEFAULT_CONFIG, argv)
    export(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())

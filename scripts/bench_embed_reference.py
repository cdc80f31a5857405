#!/usr/bin/env python3
"""Reference embeddings and throughput from Python onnxruntime, for the Rust local embedder.

Embeds the first N Cranfield abstracts with the same int8 all-MiniLM-L6-v2 ONNX file and the
same tokenizer.json as the worker (both from scripts/fetch-models.sh), the same way the worker
does it: truncate to 256 tokens (sentence-transformers' max_seq_length for this model; the
tokenizer.json itself says 128), sort by length and pad each batch to its longest text
(as sentence-transformers' encode() does), mean pooling over the attention mask, L2
normalisation. Writes the texts, the vectors and the chunks/s to a JSON file that the Rust
example `bench_embed` reads to compare throughput and cosine similarity.

It installs its own venv (onnxruntime, tokenizers, numpy from PyPI) under the cache dir on
first run and re-executes itself there:

    python3 scripts/bench_embed_reference.py --threads 1
    python3 scripts/bench_embed_reference.py --threads 2
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jambo-worker"
MODEL_CACHE = Path(os.environ.get("JAMBO_MODEL_CACHE", CACHE_HOME / "models"))
VENV = Path(os.environ.get("JAMBO_BENCH_VENV", CACHE_HOME / "bench-venv"))
REQUIREMENTS = ["onnxruntime==1.31.1", "tokenizers==0.22.2", "numpy==2.4.6"]
CRANFIELD = Path(__file__).resolve().parent.parent.parent / "shared/datasets/cranfield/cran.all.1400"
MAX_TOKENS = 256


def ensure_venv() -> None:
    """Re-executes this script inside the bench venv, creating it first if needed."""
    venv_python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    marker = VENV / ".requirements"
    if not venv_python.exists() or not marker.exists() or marker.read_text() != "\n".join(REQUIREMENTS):
        print(f"creating venv {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS], check=True)
        marker.write_text("\n".join(REQUIREMENTS))
    os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])


def cranfield_abstracts(path: Path, limit: int) -> list[str]:
    """The .W field of each document, lines joined by one space, empty abstracts skipped."""
    abstracts, current, in_abstract = [], [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(".I "):
            if current:
                abstracts.append(" ".join(current))
            current, in_abstract = [], False
        elif line.startswith(".") and len(line) == 2:
            in_abstract = line == ".W"
        elif in_abstract:
            current.extend(line.split())
    if current:
        abstracts.append(" ".join(current))
    return [a for a in abstracts if a][:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=1000, help="number of abstracts")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the fastest is reported (the machine may be shared)")
    parser.add_argument("--cranfield", type=Path, default=CRANFIELD)
    parser.add_argument("--out", type=Path, default=None, help="default: <cache>/bench/reference-t<threads>.json")
    args = parser.parse_args()
    ensure_venv()

    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    model_dir = MODEL_CACHE / "minilm-l6-v2-int8"
    if not (model_dir / "model.onnx").exists():
        sys.exit(f"model not found in {model_dir}: run scripts/fetch-models.sh")
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest of the batch

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])

    texts = cranfield_abstracts(args.cranfield, args.limit)

    def embed(batch: list[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_all() -> np.ndarray:
        # Longest first, as sentence-transformers does, so each batch pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), args.batch_size):
            indices = order[start : start + args.batch_size]
            vectors[indices] = embed([texts[i] for i in indices])
        return vectors

    embed(texts[: args.batch_size])  # warm-up
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        vectors = embed_all()
        seconds.append(time.perf_counter() - started)
    best = min(seconds)
    tokens = [sum(e.attention_mask) for e in tokenizer.encode_batch(texts)]
    result = {
        "engine": f"python onnxruntime {ort.__version__}",
        "threads": args.threads,
        "batch_size": args.batch_size,
        "texts_count": len(texts),
        "mean_tokens": sum(tokens) / len(tokens),
        "seconds_best": best,
        "seconds_all": seconds,
        "chunks_per_second": len(texts) / best,
        "texts": texts,
        "vectors": vectors.tolist(),
    }
    out = args.out or CACHE_HOME / "bench" / f"reference-t{args.threads}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result))
    print(f"python onnxruntime {ort.__version__}: threads={args.threads} texts={len(texts)} "
          f"mean_tokens={result['mean_tokens']:.1f} chunks/s={result['chunks_per_second']:.1f} -> {out}")


if __name__ == "__main__":
    main()

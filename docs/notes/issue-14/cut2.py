import onnx, numpy as np, time
m = onnx.load("use_cut.onnx"); g = m.graph
ren = {g.input[0].name: "token_ids", g.input[1].name: "row_splits"}
for i in g.input: i.name = ren[i.name]
for n in g.node:
    for k, x in enumerate(n.input):
        if x in ren: n.input[k] = ren[x]
onnx.checker.check_model(m); onnx.save(m, "use_cut_renamed.onnx")
import onnxruntime as ort, sentencepiece as spm
from common import *
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
s = ort.InferenceSession("use_cut_renamed.onnx", so, providers=["CPUExecutionProvider"])
print([(i.name, i.type, i.shape) for i in s.get_inputs()], [(o.name, o.type, o.shape) for o in s.get_outputs()])
sp = spm.SentencePieceProcessor(model_file="spm.model")
Q = queries500()
ref = np.load("use_alone.npy")
def run(texts):
    ids = [[1] + sp.encode(t) + [2] for t in texts]
    flat = np.array([i for r in ids for i in r], np.int32); splits = np.cumsum([0] + [len(r) for r in ids]).astype(np.int64)
    return s.run(None, {"token_ids": flat, "row_splits": splits})[0]
out = np.concatenate([run([q]) for q in Q]); print("renamed cut vs orig bs=1 max|d|", np.abs(out-ref).max())
toks = [np.array([1] + sp.encode(q) + [2], np.int32) for q in Q]
for rep in range(3):
    t = time.process_time()
    for tk in toks: s.run(None, {"token_ids": tk, "row_splits": np.array([0, len(tk)], np.int64)})
    c = time.process_time() - t
    t2 = time.process_time(); [sp.encode(q) for q in Q]; c2 = time.process_time() - t2
    print("cut graph bs=1 (tokenization excluded) texts/s %.0f ; python spm encode texts/s %.0f" % (len(Q)/c, len(Q)/c2))
print("mean tokens/query", np.mean([len(t) for t in toks]))

import json, time, csv, numpy as np, os
D = "/work/shared/datasets"
def load_jsonl(p): return [json.loads(l) for l in open(p)]
def xquad(lang):
    corpus = load_jsonl(f"{D}/xquad/{lang}/corpus.jsonl")
    queries = load_jsonl(f"{D}/xquad/{lang}/queries.jsonl")
    qrels = {}
    for i, l in enumerate(open(f"{D}/xquad/{lang}/qrels/test.tsv")):
        if i == 0: continue
        q, c, s = l.rstrip("\n").split("\t")
        if int(s) > 0: qrels.setdefault(q, set()).add(c)
    return corpus, queries, qrels
def ndcg10(qv, qids, cv, cids, qrels):
    S = qv @ cv.T
    tot = 0.0; n = 0
    for i, q in enumerate(qids):
        rel = qrels.get(q)
        if not rel: continue
        top = np.argsort(-S[i])[:10]
        dcg = sum(1/np.log2(r+2) for r, j in enumerate(top) if cids[j] in rel)
        idcg = sum(1/np.log2(r+2) for r in range(min(len(rel), 10)))
        tot += dcg/idcg; n += 1
    return tot/n
def norm(v): return v/np.linalg.norm(v, axis=1, keepdims=True)
def eval_xquad(embed_q, embed_p, langs=(("de","de"),("en","en"),("de","en"),("zh","zh"),("zh","en"))):
    cache = {}; out = {}
    for ql, cl in langs:
        if ("c", cl) not in cache:
            c, _, _ = xquad(cl)
            cache[("c", cl)] = ([d["_id"] for d in c], norm(embed_p([(d.get("title","")+" "+d["text"]).strip() for d in c])))
        if ("q", ql) not in cache:
            _, q, qr = xquad(ql)
            cache[("q", ql)] = ([d["_id"] for d in q], norm(embed_q([d["text"] for d in q])), qr)
        cids, cv = cache[("c", cl)]; qids, qv, qr = cache[("q", ql)]
        out[f"{ql}->{cl}"] = round(ndcg10(qv, qids, cv, cids, qr), 4)
    return out
def xsid(lang, split):
    with open(f"{D}/xsid/{lang}/{split}.csv", newline="") as f:
        r = list(csv.DictReader(f))
    return [x["text"] for x in r], [x["category"] for x in r]
def eval_xsid(embed, langs=("en","de","zh","tr","ja")):
    from sklearn.linear_model import LogisticRegression
    tx, ty = xsid("en", "train")
    Xtr = norm(embed(tx))
    clf = LogisticRegression(max_iter=2000, C=10).fit(Xtr, ty)
    labels = sorted(set(ty)); cent = np.stack([norm(Xtr[[i for i,y in enumerate(ty) if y==l]].mean(0, keepdims=True))[0] for l in labels])
    out = {}
    for l in langs:
        x, y = xsid(l, "test"); X = norm(embed(x))
        lr = float(np.mean(clf.predict(X) == np.array(y)))
        nc = float(np.mean(np.array(labels)[np.argmax(X @ cent.T, 1)] == np.array(y)))
        out[l] = {"logreg": round(lr,4), "centroid": round(nc,4)}
    return out
def queries500():
    de = [d["text"] for d in load_jsonl(f"{D}/xquad/de/queries.jsonl")][:250]
    en = [d["text"] for d in load_jsonl(f"{D}/xquad/en/queries.jsonl")][250:500]
    return de + en

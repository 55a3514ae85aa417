"""GPT-NeoX's tokenizer.json: DeeR's added tokens, and a small byte-level BPE
encoder for the torch reference runner (Debian has no `tokenizers`).

The encoder handles what DeeR prompts contain: added tokens matched whole,
NFC, GPT-2's byte-level pre-tokenisation (its regex, with Python's Unicode
letter and digit classes standing in for \\p{L} and \\p{N}) and BPE merges.
The Go engine's tokenizer is the one that runs on the robot; this one only
gives the reference its ids.
"""

import json
import re
import unicodedata

# RoboFlamingo's additions to the language model's tokenizer, in this order.
DEER_TOKENS = ["<|endofchunk|>", "<image>", "<PAD>"]
PROMPT = "<image>{instruction}<|endofchunk|><|endoftext|>"

_PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def add_deer_tokens(tok):
    """Adds <|endofchunk|>, <image> and <PAD> (when the tokenizer has no pad
    token) after the last id, as RoboFlamingo's add_special_tokens does.
    Returns the new tokenizer dict and the ids."""
    tok = json.loads(json.dumps(tok))
    added = tok.setdefault("added_tokens", [])
    ids = {a["content"]: a["id"] for a in added}
    ids.update(tok["model"]["vocab"])
    nxt = max(ids.values()) + 1
    out = {}
    for t in DEER_TOKENS:
        if t in ids:
            out[t] = ids[t]
            continue
        added.append({"id": nxt, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        out[t] = nxt
        nxt += 1
    return tok, out, nxt


class BPE:
    def __init__(self, tok):
        m = tok["model"]
        if m.get("type") != "BPE":
            raise ValueError("tokenizer.json: model type %r, want BPE" % m.get("type"))
        self.vocab = m["vocab"]
        merges = [tuple(x.split(" ", 1)) if isinstance(x, str) else tuple(x) for x in m["merges"]]
        self.ranks = {p: i for i, p in enumerate(merges)}
        self.added = {a["content"]: a["id"] for a in tok.get("added_tokens", [])}
        self.split = re.compile("(" + "|".join(re.escape(a) for a in sorted(self.added, key=len, reverse=True)) + ")") if self.added else None
        self.b2u = bytes_to_unicode()
        norm = tok.get("normalizer") or {}
        self.nfc = norm.get("type") == "NFC"

    def _bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((parts[i], parts[i + 1]), 1 << 60), i) for i in range(len(parts) - 1)]
            r, i = min(pairs)
            if r == 1 << 60:
                break
            parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]
        return [self.vocab[p] for p in parts]

    def encode(self, text):
        out = []
        chunks = self.split.split(text) if self.split else [text]
        for ch in chunks:
            if not ch:
                continue
            if ch in self.added:
                out.append(self.added[ch])
                continue
            if self.nfc:
                ch = unicodedata.normalize("NFC", ch)
            for pre in _PRETOKEN.findall(ch):
                out += self._bpe("".join(self.b2u[b] for b in pre.encode("utf-8")))
        return out


def prompt_tokens(bpe, instruction, max_tokens, pad_id):
    ids = bpe.encode(PROMPT.format(instruction=instruction.strip()))[:max_tokens]
    mask = [1.0] * len(ids) + [0.0] * (max_tokens - len(ids))
    return ids + [pad_id] * (max_tokens - len(ids)), mask

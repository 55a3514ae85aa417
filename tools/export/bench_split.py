#!/usr/bin/python3
"""Cut an exported encoder.onnx into timing-only pieces for the real-size
benchmark: vision.onnx (both cameras through the ViT, up to the patch
tokens) and resampler.onnx (the patch tokens through the perceiver
resampler to visual_tokens), plus split.json naming their inputs (with
shapes), outputs and external-data files. The engine never runs them; they
only split the encoder's wall time.

  tools/export/bench_split.py MODEL_DIR OUT_DIR
"""
import json
import os
import sys

import onnx


def vit_output(graph):
    """The one tensor the ViT's nodes (named /vit/...) hand to the rest."""
    prod = {o: n.name for n in graph.node for o in n.output}
    outs = {i for n in graph.node if not n.name.startswith("/vit/")
            for i in n.input if i in prod and prod[i].startswith("/vit/")}
    if len(outs) != 1:
        sys.exit("bench_split: expected one tensor out of the /vit/ nodes, found %s" % sorted(outs))
    return outs.pop()


def extract(model, inputs, outputs, value_info):
    """The nodes outputs need, stopping at inputs (onnx.utils.Extractor in
    Debian's onnx 1.12 walks the graph without a visited set: exponential
    on a ViT)."""
    g = model.graph
    prod = {o: n for n in g.node for o in n.output}
    need, seen, stack = [], set(), list(outputs)
    while stack:
        t = stack.pop()
        if t in seen or t in inputs or t not in prod:
            seen.add(t)
            continue
        seen.add(t)
        n = prod[t]
        if id(n) not in {id(x) for x in need}:
            need.append(n)
            stack.extend(i for i in n.input if i)
    order = {id(n): k for k, n in enumerate(g.node)}
    nodes = sorted(need, key=lambda n: order[id(n)])
    used = {i for n in nodes for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    vi = {v.name: v for v in value_info}
    graph = onnx.helper.make_graph(nodes, "piece", [vi[i] for i in inputs], [vi[o] for o in outputs], inits)
    return onnx.helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)


def shapes(path):
    m = onnx.shape_inference.infer_shapes(onnx.load(path, load_external_data=False))
    vals = {v.name: v for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output)}
    return lambda name: [d.dim_value for d in vals[name].type.tensor_type.shape.dim]


def elem(path, name):
    m = onnx.load(path, load_external_data=False)
    t = [i for i in m.graph.input if i.name == name][0].type.tensor_type.elem_type
    return "int64" if t == onnx.TensorProto.INT64 else "float32"


def main(model_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    enc = onnx.load(os.path.join(model_dir, "encoder.onnx"), load_external_data=False)
    cut = vit_output(enc.graph)
    inferred = onnx.shape_inference.infer_shapes(enc).graph
    value_info = list(inferred.value_info) + list(inferred.input) + list(inferred.output)
    # The ViT's output has no static shape in the graph: it is both cameras'
    # patch tokens, [2, grid*grid, width], read off the positional embedding.
    pos = [t for t in enc.graph.initializer if t.name.endswith("positional_embedding") and len(t.dims) == 2]
    if len(pos) != 1:
        sys.exit("bench_split: cannot find the ViT's positional embedding in encoder.onnx")
    value_info = [v for v in value_info if v.name != cut] + [
        onnx.helper.make_tensor_value_info(cut, onnx.TensorProto.FLOAT, [2, pos[0].dims[0] - 1, pos[0].dims[1]])]
    del enc, inferred
    full = onnx.load(os.path.join(model_dir, "encoder.onnx"))  # with its weights
    pieces = [("vision", ["static_image", "gripper_image"], [cut]), ("resampler", [cut], ["visual_tokens"]),
              ("vision+resampler", ["static_image", "gripper_image"], ["visual_tokens"]),
              ("layer0", ["visual_tokens", "tokens", "token_mask"], ["hidden_1", "feature_1"])]
    doc = []
    for name, ins, outs in pieces:
        sub = extract(full, ins, outs, value_info)
        fname = name.replace("+", "_")
        path = os.path.join(out_dir, fname + ".onnx")
        onnx.save_model(sub, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=fname + ".onnx.data", size_threshold=1024)
        del sub
        shape = shapes(path)
        doc.append({"name": name, "file": fname + ".onnx",
                    "inputs": [{"name": i, "shape": shape(i), "type": elem(path, i)} for i in ins], "outputs": outs})
        print("bench_split: %s: %s -> %s" % (name, [(d["name"], d["shape"]) for d in doc[-1]["inputs"]], outs))
    with open(os.path.join(out_dir, "split.json"), "w") as fh:
        json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

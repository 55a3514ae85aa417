package ort

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A staged model written by the test itself, in ONNX's protobuf, so that
// tests can have models of any size with their weights in external-data
// files without Python. Its stages are plain matrix products: the encoder
// flattens the camera image and multiplies it by [48, D]; each exit block
// multiplies the hidden state by its own [D, D]; the head reads pose and
// gripper off the feature and passes its state through.

// pb is a protobuf message being written.
type pb []byte

func (b *pb) tag(field, wire int) { *b = binary.AppendUvarint(*b, uint64(field<<3|wire)) }

func (b *pb) varint(field int, v uint64) {
	b.tag(field, wireVarint)
	*b = binary.AppendUvarint(*b, v)
}

func (b *pb) bytes(field int, data []byte) {
	b.tag(field, wireBytes)
	*b = binary.AppendUvarint(*b, uint64(len(data)))
	*b = append(*b, data...)
}

func (b *pb) str(field int, s string) { b.bytes(field, []byte(s)) }

// onnxGraph collects one ONNX graph.
type onnxGraph struct {
	nodes, inits, inputs, outputs []pb
	data                          []byte // external data, when written
}

const (
	onnxFloat = 1
	onnxInt64 = 7
)

func valueInfo(name string, elem int, shape ...int64) pb {
	var dims pb
	for _, d := range shape {
		var dim pb
		dim.varint(dimValue, uint64(d))
		dims.bytes(shapeDim, dim)
	}
	var tt pb
	tt.varint(tensorElemType, uint64(elem))
	tt.bytes(tensorShape, dims)
	var typ pb
	typ.bytes(typeTensor, tt)
	var v pb
	v.str(valueName, name)
	v.bytes(valueType, typ)
	return v
}

func (g *onnxGraph) input(name string, elem int, shape ...int64) {
	g.inputs = append(g.inputs, valueInfo(name, elem, shape...))
}

func (g *onnxGraph) output(name string, shape ...int64) {
	g.outputs = append(g.outputs, valueInfo(name, onnxFloat, shape...))
}

func (g *onnxGraph) node(op string, inputs []string, outputs ...string) {
	var n pb
	for _, in := range inputs {
		n.str(1, in)
	}
	for _, out := range outputs {
		n.str(2, out)
	}
	n.str(3, fmt.Sprintf("%s_%d", op, len(g.nodes)))
	n.str(4, op)
	g.nodes = append(g.nodes, n)
}

// initializer adds a weight; external ones go to g.data, to be written to
// dataFile beside the model.
func (g *onnxGraph) initializer(name string, elem int, raw []byte, dataFile string, shape ...int64) {
	var t pb
	for _, d := range shape {
		t.varint(initDims, uint64(d))
	}
	t.varint(initDataType, uint64(elem))
	t.str(initName, name)
	if dataFile == "" {
		t.bytes(9, raw) // raw_data
	} else {
		for _, kv := range [][2]string{{"location", dataFile}, {"offset", fmt.Sprint(len(g.data))}, {"length", fmt.Sprint(len(raw))}} {
			var e pb
			e.str(entryKey, kv[0])
			e.str(entryValue, kv[1])
			t.bytes(initExternalData, e)
		}
		t.varint(initDataLocation, 1)
		g.data = append(g.data, raw...)
	}
	g.inits = append(g.inits, t)
}

func int64s(v ...int64) []byte {
	var out []byte
	for _, x := range v {
		out = binary.LittleEndian.AppendUint64(out, uint64(x))
	}
	return out
}

// weights are rows x cols float32s of a fixed pseudo-random pattern, scaled
// so that products of them stay near unit size.
func weights(rows, cols int, seed uint32) []byte {
	out := make([]byte, 0, rows*cols*4)
	s := seed*2654435761 + 1
	scale := float32(1 / math.Sqrt(float64(rows)))
	for i := 0; i < rows*cols; i++ {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		v := (float32(s)/float32(math.MaxUint32) - 0.5) * 2 * scale
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// save writes the model to dir/name and, if the graph has external data,
// that data to dir/dataFile.
func (g *onnxGraph) save(t testing.TB, dir, name, dataFile string) {
	t.Helper()
	var graph pb
	for _, n := range g.nodes {
		graph.bytes(1, n)
	}
	graph.str(2, name)
	for _, i := range g.inits {
		graph.bytes(graphInitializer, i)
	}
	for _, i := range g.inputs {
		graph.bytes(graphInput, i)
	}
	for _, o := range g.outputs {
		graph.bytes(graphOutput, o)
	}
	var opset pb
	opset.str(1, "")
	opset.varint(2, 13)
	var model pb
	model.varint(1, 8) // ir_version
	model.str(2, "deer_vla fake model test")
	model.bytes(modelGraph, graph)
	model.bytes(8, opset)
	if err := os.WriteFile(filepath.Join(dir, name), model, 0o644); err != nil {
		t.Fatal(err)
	}
	if dataFile != "" {
		if err := os.WriteFile(filepath.Join(dir, dataFile), g.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeModel describes a model written by writeFakeModel.
type fakeModel struct {
	width    int  // D, the hidden and feature width
	exits    int  // blocks
	external bool // weights in one .data file per stage
}

// blockBytes is one block's weight bytes.
func (f fakeModel) blockBytes() int64 { return int64(f.width) * int64(f.width) * 4 }

// writeFakeModel writes a complete model folder and returns it.
func writeFakeModel(t testing.TB, f fakeModel) string {
	t.Helper()
	dir := t.TempDir()
	D := int64(f.width)
	data := func(stage string) string {
		if f.external {
			return stage + ".onnx.data"
		}
		return ""
	}
	var m strings.Builder
	fmt.Fprintf(&m, `format: deer-vla/v1
name: fake_%d
cameras:
  - {slot: static, tensor: static_image, width: 4, height: 4, channels: rgb, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: bilinear}
tokenizer: {kind: words, vocab: vocab.txt, max_tokens: 4, pad_id: 0, unk_id: 1, tokens_tensor: tokens, mask_tensor: token_mask}
`, f.width)
	stageYAML := func(key, file, indent string, ins, outs []string, gflops float64, bytes int64) {
		fmt.Fprintf(&m, "%s%sfile: %s\n", key, indent, file)
		pad := strings.Repeat(" ", len(key)+len(indent))
		if d := data(strings.TrimSuffix(file, ".onnx")); d != "" {
			fmt.Fprintf(&m, "%sdata: %s\n", pad, d)
		}
		fmt.Fprintf(&m, "%sinputs: [%s]\n%soutputs: [%s]\n%sgflops: %g\n%sweight_bytes: %d\n",
			pad, strings.Join(ins, ", "), pad, strings.Join(outs, ", "), pad, gflops, pad, bytes)
	}

	// Encoder: feature_1 = hidden_1 = flatten(image) x [48, D].
	var enc onnxGraph
	enc.input("static_image", onnxFloat, 1, 3, 4, 4)
	enc.input("tokens", onnxInt64, 1, 4)
	enc.input("token_mask", onnxFloat, 1, 4)
	enc.initializer("w_enc", onnxFloat, weights(48, f.width, 99), data("encoder"), 48, D)
	enc.node("Flatten", []string{"static_image"}, "flat")
	enc.node("MatMul", []string{"flat", "w_enc"}, "hidden_1")
	enc.node("Identity", []string{"hidden_1"}, "feature_1")
	enc.output("hidden_1", 1, D)
	enc.output("feature_1", 1, D)
	enc.save(t, dir, "encoder.onnx", data("encoder"))
	m.WriteString("encoder:\n")
	stageYAML("  ", "encoder.onnx", "", []string{"static_image", "tokens", "token_mask"}, []string{"hidden_1", "feature_1"}, 0, 48*D*4)
	m.WriteString("reference_feature: feature_1\nexits:\n")

	// Blocks: hidden_{k+1} = hidden_k x W_k.
	gflop := 2 * float64(D*D) / 1e9
	for k := 1; k <= f.exits; k++ {
		stage := fmt.Sprintf("block_%d", k)
		prev, next := fmt.Sprintf("hidden_%d", k), fmt.Sprintf("hidden_%d", k+1)
		feat := fmt.Sprintf("feature_%d", k+1)
		var g onnxGraph
		g.input(prev, onnxFloat, 1, D)
		g.initializer("w", onnxFloat, weights(f.width, f.width, uint32(k)), data(stage), D, D)
		g.node("MatMul", []string{prev, "w"}, next)
		g.node("Identity", []string{next}, feat)
		g.output(next, 1, D)
		g.output(feat, 1, D)
		g.save(t, dir, stage+".onnx", data(stage))
		stageYAML("  - ", stage+".onnx", "", []string{prev}, []string{next, feat}, gflop*float64(k+1), int64(k)*f.blockBytes())
		fmt.Fprintf(&m, "    feature: %s\n", feat)
	}

	// Head: pose = tanh(feature[:6]), gripper = sigmoid(feature[6:7]).
	var h onnxGraph
	h.input("head_feature", onnxFloat, 1, D)
	h.input("h_in", onnxFloat, 1, 1, 4)
	h.input("c_in", onnxFloat, 1, 1, 4)
	h.initializer("axes", onnxInt64, int64s(1), "", 1)
	for _, s := range []struct {
		name       string
		start, end int64
	}{{"s0", 0, 6}, {"s6", 6, 7}} {
		h.initializer(s.name+"_start", onnxInt64, int64s(s.start), "", 1)
		h.initializer(s.name+"_end", onnxInt64, int64s(s.end), "", 1)
		h.node("Slice", []string{"head_feature", s.name + "_start", s.name + "_end", "axes"}, s.name)
	}
	h.node("Tanh", []string{"s0"}, "pose")
	h.node("Sigmoid", []string{"s6"}, "gripper")
	h.node("Identity", []string{"h_in"}, "h_out")
	h.node("Identity", []string{"c_in"}, "c_out")
	h.output("pose", 1, 6)
	h.output("gripper", 1, 1)
	h.output("h_out", 1, 1, 4)
	h.output("c_out", 1, 1, 4)
	h.save(t, dir, "head.onnx", "")
	fmt.Fprintf(&m, `head:
  file: head.onnx
  feature: head_feature
  state_inputs: [h_in, c_in]
  state_outputs: [h_out, c_out]
  pose: pose
  gripper: gripper
  gflops: 0
  weight_bytes: 0
tensors:
  static_image: {dtype: float32, shape: [1, 3, 4, 4]}
  tokens: {dtype: int64, shape: [1, 4]}
  token_mask: {dtype: float32, shape: [1, 4]}
  head_feature: {dtype: float32, shape: [1, %d]}
  h_in: {dtype: float32, shape: [1, 1, 4]}
  c_in: {dtype: float32, shape: [1, 1, 4]}
  h_out: {dtype: float32, shape: [1, 1, 4]}
  c_out: {dtype: float32, shape: [1, 1, 4]}
  pose: {dtype: float32, shape: [1, 6]}
  gripper: {dtype: float32, shape: [1, 1]}
`, D)
	for k := 1; k <= f.exits+1; k++ {
		fmt.Fprintf(&m, "  hidden_%d: {dtype: float32, shape: [1, %d]}\n  feature_%d: {dtype: float32, shape: [1, %d]}\n", k, D, k, D)
	}
	for name, text := range map[string]string{"manifest.yaml": m.String(), "vocab.txt": "<pad>\n<unk>\nopen\nthe\ndrawer\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

package policy

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

type problem struct{ field, msg string }

type checker struct {
	m        *Manifest
	problems []problem
}

func (c *checker) add(field, format string, args ...any) {
	c.problems = append(c.problems, problem{field, fmt.Sprintf(format, args...)})
}

// validate returns every problem it finds, so that one load shows them all.
func (m *Manifest) validate() []problem {
	c := &checker{m: m}
	if m.Format != ManifestFormat {
		c.add("format", "is %q, want %q", m.Format, ManifestFormat)
	}
	for name, t := range m.Tensors {
		if t.DType != "float32" && t.DType != "int64" {
			c.add("tensors."+name+".dtype", "is %q, want float32 or int64", t.DType)
		}
		if len(t.Shape) == 0 || slices.ContainsFunc(t.Shape, func(d int64) bool { return d <= 0 }) {
			c.add("tensors."+name+".shape", "%v is not a static shape of positive sizes", t.Shape)
		} else if !elementsWithin(t.Shape, MaxTensorElements) {
			c.add("tensors."+name+".shape", "%v has more than %d elements", t.Shape, MaxTensorElements)
		}
	}
	available := map[string]bool{}
	c.cameras(available)
	c.tokenizer(available)
	c.stage("encoder", m.Encoder, available)
	d := c.feature("reference_feature", m.ReferenceFeature, m.Encoder.Outputs, 0)
	c.exits(available, d)
	c.head(d)
	c.action()
	return c.problems
}

func (c *checker) cameras(available map[string]bool) {
	if n := len(c.m.Cameras); n < 1 || n > 2 {
		c.add("cameras", "has %d entries, want 1 or 2", n)
	}
	seen := map[string]bool{}
	for i, cam := range c.m.Cameras {
		f := fmt.Sprintf("cameras[%d]", i)
		if cam.Slot != SlotStatic && cam.Slot != SlotGripper {
			c.add(f+".slot", "is %q, want %s or %s", cam.Slot, SlotStatic, SlotGripper)
		} else if seen[cam.Slot] {
			c.add(f+".slot", "%q appears twice", cam.Slot)
		}
		seen[cam.Slot] = true
		ch := 3
		switch cam.Channels {
		case "rgb", "bgr":
		case "gray":
			ch = 1
		default:
			c.add(f+".channels", "is %q, want rgb, bgr or gray", cam.Channels)
		}
		if cam.Width <= 0 || cam.Height <= 0 || cam.Width > MaxImageSide || cam.Height > MaxImageSide {
			c.add(f+".width", "size %dx%d must be positive and at most %d per side", cam.Width, cam.Height, MaxImageSide)
		}
		if len(cam.Mean) != ch || slices.ContainsFunc(cam.Mean, notFinite32) {
			c.add(f+".mean", "must have %d finite values (one per channel), has %v", ch, cam.Mean)
		}
		if len(cam.Std) != ch || slices.ContainsFunc(cam.Std, func(s float32) bool { return !(s > 0) || notFinite32(s) }) {
			c.add(f+".std", "must have %d finite positive values, has %v", ch, cam.Std)
		}
		switch cam.Resize {
		case ResizeExact, ResizeNearest, ResizeBilinear:
		case ResizeCLIP:
			c.clipCamera(f, cam)
		default:
			c.add(f+".resize", "is %q, want exact, nearest, bilinear or clip", cam.Resize)
		}
		c.tensor(f+".tensor", cam.Tensor, "float32", []int64{1, int64(ch), int64(cam.Height), int64(cam.Width)})
		available[cam.Tensor] = true
	}
}

func (c *checker) tokenizer(available map[string]bool) {
	t := c.m.Tokenizer
	if t.Kind != TokenizerWords && t.Kind != TokenizerHF {
		c.add("tokenizer.kind", "is %q, want words or hf", t.Kind)
	}
	if t.MaxTokens <= 0 {
		c.add("tokenizer.max_tokens", "is %d, want > 0", t.MaxTokens)
	}
	c.file("tokenizer.vocab", t.Vocab)
	c.prompt(t)
	c.tensor("tokenizer.tokens_tensor", t.TokensTensor, "int64", []int64{1, int64(t.MaxTokens)})
	c.tensor("tokenizer.mask_tensor", t.MaskTensor, "float32", []int64{1, int64(t.MaxTokens)})
	available[t.TokensTensor] = true
	available[t.MaskTensor] = true
}

// stage checks that a stage's inputs exist before it runs and declares its outputs.
func (c *checker) stage(f string, s StageSpec, available map[string]bool) {
	c.file(f+".file", s.File)
	c.data(f+".data", s.Data)
	if len(s.Outputs) == 0 {
		c.add(f+".outputs", "is empty")
	}
	for i, in := range s.Inputs {
		if !available[in] {
			c.add(fmt.Sprintf("%s.inputs[%d]", f, i), "%q is neither an engine input nor an output of an earlier stage", in)
		}
		c.declared(fmt.Sprintf("%s.inputs[%d]", f, i), in)
	}
	for i, out := range s.Outputs {
		c.declared(fmt.Sprintf("%s.outputs[%d]", f, i), out)
		available[out] = true
	}
	c.cost(f, s.GFLOPs, s.WeightBytes)
}

// feature checks a [1, D] float32 feature among outputs and returns D
// (or want when it cannot tell).
func (c *checker) feature(f, name string, outputs []string, want int64) int64 {
	if name == "" {
		c.add(f, "is missing")
		return want
	}
	if outputs != nil && !slices.Contains(outputs, name) {
		c.add(f, "%q is not an output of its stage", name)
	}
	t, ok := c.m.Tensors[name]
	if !ok {
		return want
	}
	if t.DType != "float32" || len(t.Shape) != 2 || t.Shape[0] != 1 {
		c.add(f, "%q must be float32 [1, D], is %s %v", name, t.DType, t.Shape)
		return want
	}
	if want > 0 && t.Shape[1] != want {
		c.add(f, "%q has width %d, the other features have %d", name, t.Shape[1], want)
	}
	return t.Shape[1]
}

func (c *checker) exits(available map[string]bool, d int64) {
	if n := len(c.m.Exits); n < 1 || n > MaxExits {
		c.add("exits", "has %d entries, want 1 to %d", n, MaxExits)
	}
	for i, e := range c.m.Exits {
		f := fmt.Sprintf("exits[%d]", i)
		c.stage(f, e.StageSpec, available)
		c.feature(f+".feature", e.Feature, e.Outputs, d)
		if i == 0 && !(e.GFLOPs > 0) {
			c.add(f+".gflops", "is %g, want > 0", e.GFLOPs)
		}
		if i > 0 && e.GFLOPs <= c.m.Exits[i-1].GFLOPs {
			c.add(f+".gflops", "%g is not above exit %d's %g (values are cumulative)", e.GFLOPs, i, c.m.Exits[i-1].GFLOPs)
		}
		if i > 0 && e.WeightBytes < c.m.Exits[i-1].WeightBytes {
			c.add(f+".weight_bytes", "%d is below exit %d's %d (values are cumulative)", e.WeightBytes, i, c.m.Exits[i-1].WeightBytes)
		}
	}
}

func (c *checker) head(d int64) {
	h := c.m.Head
	c.file("head.file", h.File)
	c.data("head.data", h.Data)
	c.feature("head.feature", h.Feature, nil, d)
	if len(h.StateInputs) == 0 || len(h.StateInputs) != len(h.StateOutputs) {
		c.add("head.state_outputs", "want one output per state input (%d inputs, %d outputs)", len(h.StateInputs), len(h.StateOutputs))
	}
	for i, in := range h.StateInputs {
		c.declared(fmt.Sprintf("head.state_inputs[%d]", i), in)
		if i < len(h.StateOutputs) {
			out := h.StateOutputs[i]
			c.declared(fmt.Sprintf("head.state_outputs[%d]", i), out)
			a, b := c.m.Tensors[in], c.m.Tensors[out]
			if a.DType != "float32" || b.DType != "float32" || !slices.Equal(a.Shape, b.Shape) {
				c.add(fmt.Sprintf("head.state_outputs[%d]", i), "%q (%s %v) must be float32 with the shape of %q (%s %v)", out, b.DType, b.Shape, in, a.DType, a.Shape)
			}
		}
	}
	c.tensor("head.pose", h.Pose, "float32", []int64{1, PoseDims})
	c.tensor("head.gripper", h.Gripper, "float32", []int64{1, 1})
	c.cost("head", h.GFLOPs, h.WeightBytes)
}

func (c *checker) action() {
	a := c.m.Action
	if len(a.Names) != 0 && len(a.Names) != PoseDims+1 {
		c.add("action.names", "has %d names, want %d (6 pose deltas and the gripper)", len(a.Names), PoseDims+1)
	}
	if len(a.PoseScale) != 0 && len(a.PoseScale) != PoseDims {
		c.add("action.pose_scale", "has %d values, want %d", len(a.PoseScale), PoseDims)
	}
	if slices.ContainsFunc(a.PoseScale, func(s float32) bool { return !(s > 0) || notFinite32(s) }) {
		c.add("action.pose_scale", "%v: every value must be finite and > 0", a.PoseScale)
	}
	// Written so that NaN fails too: it compares false with everything.
	if !(a.GripperThreshold >= 0 && a.GripperThreshold < 1) {
		c.add("action.gripper_threshold", "is %g, want in (0, 1) (0 or absent means the default 0.5)", a.GripperThreshold)
	}
}

// cost checks a stage's gflops and weight_bytes: finite and not negative
// (NaN would pass a plain "< 0" test and poison every budget).
func (c *checker) cost(f string, gflops float64, weightBytes int64) {
	if !(gflops >= 0) || math.IsInf(gflops, 0) || gflops > MaxGFLOPs {
		c.add(f+".gflops", "is %g, want a finite value in [0, %g]", gflops, float64(MaxGFLOPs))
	}
	if weightBytes < 0 || weightBytes > MaxWeightBytes {
		c.add(f+".weight_bytes", "is %d, want in [0, %d]", weightBytes, int64(MaxWeightBytes))
	}
}

func notFinite32(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }

// elementsWithin reports whether a shape of positive sizes has at most
// limit elements, without overflowing on the way.
func elementsWithin(shape []int64, limit int64) bool {
	n := int64(1)
	for _, d := range shape {
		if d > limit/n {
			return false
		}
		n *= d
	}
	return true
}

func (c *checker) tensor(f, name, dtype string, shape []int64) {
	if name == "" {
		c.add(f, "is missing")
		return
	}
	t, ok := c.m.Tensors[name]
	if !ok {
		c.add(f, "tensor %q is not declared under tensors", name)
		return
	}
	if t.DType != dtype || !slices.Equal(t.Shape, shape) {
		c.add(f, "tensor %q is %s %v, want %s %v", name, t.DType, t.Shape, dtype, shape)
	}
}

func (c *checker) declared(f, name string) {
	if _, ok := c.m.Tensors[name]; !ok {
		c.add(f, "tensor %q is not declared under tensors", name)
	}
}

func (c *checker) file(f, name string) {
	if name == "" {
		c.add(f, "is missing")
		return
	}
	if _, err := os.Stat(c.m.Path(name)); err != nil {
		c.add(f, "%v", err)
	}
}

// lineOf finds the line of a field path such as "exits[2].gflops" in a
// parsed YAML document; it returns the line of the deepest part it finds,
// or 0 when not even the first part is there.
func lineOf(doc *yaml.Node, path string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if open := strings.IndexByte(part, '['); open >= 0 && strings.HasSuffix(part, "]") {
			key = part[:open]
			idx, _ = strconv.Atoi(part[open+1 : len(part)-1])
		}
		next := mappingValue(n, key)
		if next == nil {
			return line
		}
		n, line = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if n.Content[i+1].Kind == yaml.ScalarNode || n.Content[i+1].Kind == yaml.AliasNode {
				return n.Content[i+1]
			}
			// Report a block's own key line rather than its first child's.
			v := *n.Content[i+1]
			v.Line = n.Content[i].Line
			return &v
		}
	}
	// An inline field (exits[i].file) lives in the same mapping.
	return nil
}

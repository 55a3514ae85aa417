package policy

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/deervla/deer_vla/internal/limitread"
	"gopkg.in/yaml.v3"
)

// ManifestFormat is the only manifest format this engine reads.
const ManifestFormat = "deer-vla/v1"

// ManifestFile is the manifest's file name inside a model folder.
const ManifestFile = "manifest.yaml"

// Limits a manifest must keep, so that a damaged or hostile model folder
// gives an error at load instead of a huge allocation.
const (
	// MaxManifestBytes is the largest manifest.yaml read.
	MaxManifestBytes = 1 << 20
	// MaxTensorElements bounds the element count of every declared tensor
	// (buffers are allocated from the declared shapes): 256 MiB of float32.
	MaxTensorElements = 1 << 26
	// MaxGFLOPs bounds every gflops figure (a 7B-parameter decoder is about
	// 14 GFLOPs per token).
	MaxGFLOPs = 1e6
	// MaxWeightBytes bounds every weight_bytes figure (1 PiB), so that
	// sums of them cannot overflow.
	MaxWeightBytes = 1 << 50
)

// MaxExits bounds the number of exits a model may declare. It sizes the
// fixed arrays in [StepResult], so that a step allocates nothing.
const MaxExits = 16

// Manifest describes a staged multi-exit model: see docs/model-contract.md.
// Field docs name the YAML keys.
type Manifest struct {
	Format           string                `yaml:"format"`
	Name             string                `yaml:"name"`
	Cameras          []CameraSpec          `yaml:"cameras"`
	Tokenizer        TokenizerSpec         `yaml:"tokenizer"`
	Encoder          StageSpec             `yaml:"encoder"`
	ReferenceFeature string                `yaml:"reference_feature"`
	Exits            []ExitSpec            `yaml:"exits"`
	Head             HeadSpec              `yaml:"head"`
	Action           ActionSpec            `yaml:"action"`
	Tensors          map[string]TensorSpec `yaml:"tensors"`

	// Dir is the folder the manifest was read from; file names are relative to it.
	Dir string `yaml:"-"`
}

// CameraSpec says how one camera image becomes an encoder input tensor.
type CameraSpec struct {
	Slot     string    `yaml:"slot"`     // "static" or "gripper"
	Tensor   string    `yaml:"tensor"`   // float32 [1, C, H, W]
	Width    int       `yaml:"width"`    // pixels of the tensor
	Height   int       `yaml:"height"`   // pixels of the tensor
	Channels string    `yaml:"channels"` // "rgb", "bgr" or "gray": order of the C axis
	Mean     []float32 `yaml:"mean"`     // per channel, applied to pixel/255
	Std      []float32 `yaml:"std"`      // per channel, > 0
	Resize   string    `yaml:"resize"`   // "exact", "nearest", "bilinear" or "clip"
}

// TokenizerSpec says how an instruction becomes token tensors.
type TokenizerSpec struct {
	Kind      string `yaml:"kind"`  // "words" or "hf"
	Vocab     string `yaml:"vocab"` // words: one token per line, line number = id; hf: tokenizer.json
	Lowercase bool   `yaml:"lowercase"`
	MaxTokens int    `yaml:"max_tokens"`
	PadID     int64  `yaml:"pad_id"`
	UnkID     int64  `yaml:"unk_id"`
	// Prompt, optional (hf only), is the text tokenised for an instruction:
	// "{instruction}" stands for the instruction stripped of surrounding
	// white space. Added tokens in it are matched whole.
	Prompt       string `yaml:"prompt"`
	TokensTensor string `yaml:"tokens_tensor"` // int64 [1, max_tokens]
	MaskTensor   string `yaml:"mask_tensor"`   // float32 [1, max_tokens]
}

// StageSpec is one ONNX file and the tensors it reads and writes.
type StageSpec struct {
	File        string   `yaml:"file"`
	Data        string   `yaml:"data"` // optional: the ONNX external-data file of File
	Inputs      []string `yaml:"inputs"`
	Outputs     []string `yaml:"outputs"`
	GFLOPs      float64  `yaml:"gflops"`
	WeightBytes int64    `yaml:"weight_bytes"`
}

// ExitSpec is the block stage that ends at an exit. GFLOPs and WeightBytes
// are cumulative over all blocks up to and including this one.
type ExitSpec struct {
	StageSpec `yaml:",inline"`
	Feature   string `yaml:"feature"` // output of this stage, [1, D]
}

// HeadSpec is the shared recurrent action head.
type HeadSpec struct {
	File         string   `yaml:"file"`
	Data         string   `yaml:"data"`          // optional: the ONNX external-data file of File
	Feature      string   `yaml:"feature"`       // input [1, D]
	StateInputs  []string `yaml:"state_inputs"`  // committed recurrent state
	StateOutputs []string `yaml:"state_outputs"` // new state, paired with StateInputs
	Pose         string   `yaml:"pose"`          // output [1, 6], tanh
	Gripper      string   `yaml:"gripper"`       // output [1, 1], sigmoid
	GFLOPs       float64  `yaml:"gflops"`        // one evaluation
	WeightBytes  int64    `yaml:"weight_bytes"`
}

// ActionSpec is the layout of the published action.
type ActionSpec struct {
	Names            []string  `yaml:"names"`
	PoseScale        []float32 `yaml:"pose_scale"`
	GripperThreshold float32   `yaml:"gripper_threshold"`
}

// TensorSpec is the dtype and static shape of a tensor that crosses a stage boundary.
type TensorSpec struct {
	DType string  `yaml:"dtype"` // "float32" or "int64"
	Shape []int64 `yaml:"shape"`
}

// Elements is the number of elements of the tensor. A validated manifest
// keeps it at most [MaxTensorElements].
func (t TensorSpec) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= int(d)
	}
	return n
}

// ManifestError reports a problem in a manifest with its file, line and field.
type ManifestError struct {
	File  string
	Line  int    // 0 when the field is absent from the file
	Field string // YAML path such as "exits[2].gflops"
	Msg   string
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Msg)
}

// LoadManifest reads and validates dir/manifest.yaml. It checks the
// manifest's own consistency and that the files it names exist; the ONNX
// files' tensors are checked by the backend when it opens them.
func LoadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := limitread.File(path, MaxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("policy: model folder %s: %w", dir, err)
	}
	return ParseManifest(path, data)
}

// ParseManifest parses and validates manifest bytes read from path.
func ParseManifest(path string, data []byte) (*Manifest, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("policy: manifest %s: %d bytes, more than the %d-byte limit", path, len(data), MaxManifestBytes)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("policy: manifest %s: %w", path, err)
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("policy: manifest %s: %w", path, err)
	}
	m.Dir = filepath.Dir(path)
	if problems := m.validate(); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = &ManifestError{File: path, Line: lineOf(&root, p.field), Field: p.field, Msg: p.msg}
		}
		return nil, errors.Join(errs...)
	}
	return &m, nil
}

// Path resolves a file named by the manifest.
func (m *Manifest) Path(file string) string { return filepath.Join(m.Dir, file) }

package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/deervla/deer_vla/policy"
)

var dtypes = map[string]ortgo.TensorElementDataType{
	"float32": ortgo.TensorElementDataTypeFloat,
	"int64":   ortgo.TensorElementDataTypeInt64,
}

// checkStage compares a stage's ONNX inputs and outputs with the manifest,
// so that a mismatch is reported when the model loads, with names, and
// checks its external-data file before ONNX Runtime reads it. It reads the
// ONNX file's graph, not its weights: see onnxfile.go.
func checkStage(m *policy.Manifest, st stageDef) error {
	if _, err := os.Stat(st.path); err != nil {
		return fmt.Errorf("ort: %s: %w", st.name, err)
	}
	oi, err := readONNXInterface(st.path)
	if err != nil {
		return fmt.Errorf("ort: %s: %s is not a readable ONNX model: %w", st.name, st.path, err)
	}
	if err := checkExternalData(st, oi.external); err != nil {
		return err
	}
	if err := compare(m, st, "input", st.inputs, oi.inputs); err != nil {
		return err
	}
	return compare(m, st, "output", st.outputs, oi.outputs)
}

// checkExternalData checks that the stage's external tensors are all in
// the file the manifest declares as its data, and that the file holds
// them: a missing or cut-short copy is named here rather than left to
// ONNX Runtime's message from deep inside the load.
func checkExternalData(st stageDef, ext []externalTensor) error {
	if len(ext) == 0 {
		if st.data != "" {
			return fmt.Errorf("ort: %s: the manifest declares data %s, but %s keeps no tensor in external data", st.name, st.data, st.path)
		}
		return nil
	}
	dir := filepath.Dir(st.path)
	var need int64
	var last string
	for _, t := range ext {
		loc := filepath.Join(dir, t.location)
		if st.data == "" || loc != filepath.Clean(st.data) {
			return fmt.Errorf("ort: %s: %s keeps tensor %q in external data %s; declare it in the manifest as the stage's data: %s", st.name, st.path, t.name, t.location, t.location)
		}
		if t.end > need {
			need, last = t.end, t.name
		}
	}
	fi, err := os.Stat(st.data)
	if err != nil {
		return fmt.Errorf("ort: %s: external data of %s: %w", st.name, st.path, err)
	}
	if fi.Size() < need {
		return fmt.Errorf("ort: %s: external data %s is %d bytes, but %s needs %d (tensor %q ends there): the file is truncated or from another export", st.name, st.data, fi.Size(), filepath.Base(st.path), need, last)
	}
	return nil
}

func compare(m *policy.Manifest, st stageDef, kind string, declared []string, actual []ortgo.InputOutputInfo) error {
	var names []string
	for _, info := range actual {
		names = append(names, info.Name)
		if kind == "input" && !slices.Contains(declared, info.Name) {
			return fmt.Errorf("ort: %s: %s has %s %q, which the manifest does not declare for this stage", st.name, st.path, kind, info.Name)
		}
		if !slices.Contains(declared, info.Name) {
			continue // an extra output nobody reads is harmless
		}
		spec := m.Tensors[info.Name]
		if info.OrtValueType != ortgo.ONNXTypeTensor || info.DataType != dtypes[spec.DType] {
			return fmt.Errorf("ort: %s: %s %q is %v in %s, the manifest says %s", st.name, kind, info.Name, info.DataType, st.path, spec.DType)
		}
		if !sameShape(info.Dimensions, spec.Shape) {
			return fmt.Errorf("ort: %s: %s %q has shape %v in %s, the manifest says %v", st.name, kind, info.Name, info.Dimensions, st.path, spec.Shape)
		}
	}
	for _, d := range declared {
		if !slices.Contains(names, d) {
			return fmt.Errorf("ort: %s: %s has no %s %q (it has %v)", st.name, st.path, kind, d, names)
		}
	}
	return nil
}

// sameShape accepts a dynamic ONNX dimension (-1) for any declared size.
func sameShape(onnx ortgo.Shape, declared []int64) bool {
	if len(onnx) != len(declared) {
		return false
	}
	for i, d := range onnx {
		if d >= 0 && d != declared[i] {
			return false
		}
	}
	return true
}

package ort

import (
	"fmt"
	"os"
	"slices"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/deervla/deer_vla/policy"
)

var dtypes = map[string]ortgo.TensorElementDataType{
	"float32": ortgo.TensorElementDataTypeFloat,
	"int64":   ortgo.TensorElementDataTypeInt64,
}

// checkStage compares a stage's ONNX inputs and outputs with the manifest,
// so that a mismatch is reported when the model loads, with names.
func checkStage(m *policy.Manifest, st stageDef) error {
	if _, err := os.Stat(st.path); err != nil {
		return fmt.Errorf("ort: %s: %w", st.name, err)
	}
	ins, outs, err := ortgo.GetInputOutputInfo(st.path)
	if err != nil {
		return fmt.Errorf("ort: %s: %s is not a readable ONNX model: %w", st.name, st.path, err)
	}
	if err := compare(m, st, "input", st.inputs, ins); err != nil {
		return err
	}
	return compare(m, st, "output", st.outputs, outs)
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

package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// tinyDir is the committed tiny test model.
var tinyDir = filepath.Join("..", "models", "tiny_test")

func readTinyManifest(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tinyDir, policy.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// copyTiny copies the tiny model to a temporary folder with a replaced manifest.
func copyTiny(t *testing.T, manifest string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(tinyDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == policy.ManifestFile {
			data = []byte(manifest)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lineNumber(text, substr string) int {
	return strings.Count(text[:strings.Index(text, substr)], "\n") + 1
}

func TestLoadTinyManifest(t *testing.T) {
	m, err := policy.LoadManifest(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Exits) != 4 || len(m.Cameras) != 2 || m.ReferenceFeature != "feature_1" {
		t.Fatalf("unexpected manifest: %d exits, %d cameras, reference %q", len(m.Exits), len(m.Cameras), m.ReferenceFeature)
	}
}

// A bad manifest fails with the file, the line and the field.
func TestManifestErrorsNameFileLineAndField(t *testing.T) {
	orig := readTinyManifest(t)
	tests := []struct {
		name      string
		old, new  string // replacement in the manifest
		wfield    string
		wlineOf   string // the line of this text in the edited manifest
		wcontains string
	}{
		{"format", "format: deer-vla/v1", "format: deer-vla/v9", "format", "format:", "want \"deer-vla/v1\""},
		{"cumulative gflops", "gflops: 0.000270336", "gflops: 0.0001", "exits[1].gflops", "gflops: 0.0001\n", "not above exit 1"},
		{"missing onnx file", "file: block_3.onnx", "file: block_9.onnx", "exits[2].file", "file: block_9.onnx", "no such file"},
		{"undeclared input", "inputs: [hidden_5, visual_tokens, token_mask]", "inputs: [hidden_6, visual_tokens, token_mask]", "exits[2].inputs[0]", "inputs: [hidden_6", "neither an engine input"},
		{"camera resize", "resize: bilinear", "resize: cubic", "cameras[0].resize", "resize: cubic", "want exact, nearest, bilinear or clip"},
		{"camera tensor shape", "width: 16", "width: 17", "cameras[0].tensor", "tensor: static_image", "want float32 [1 3 16 17]"},
		{"std", "std: [0.25, 0.25, 0.25]", "std: [0.25, 0, 0.25]", "cameras[0].std", "std: [0.25, 0, 0.25]", "positive"},
		{"head state pairing", "state_outputs: [h_out, c_out]", "state_outputs: [h_out]", "head.state_outputs", "state_outputs: [h_out]", "one output per state input"},
		{"feature not an output", "feature: feature_5", "feature: hidden_5", "exits[1].feature", "feature: hidden_5", "float32 [1, D]"},
		{"NaN exit gflops", "gflops: 0.000405504", "gflops: .nan", "exits[2].gflops", "gflops: .nan", "finite"},
		{"infinite encoder gflops", "gflops: 0.000144384", "gflops: .inf", "encoder.gflops", "gflops: .inf", "finite"},
		{"infinite head gflops", "gflops: 6.048e-06", "gflops: -.inf", "head.gflops", "gflops: -.inf", "finite"},
		{"NaN mean", "mean: [0.5, 0.5, 0.5]", "mean: [0.5, .nan, 0.5]", "cameras[0].mean", "mean: [0.5, .nan", "finite"},
		{"infinite std", "std: [0.25, 0.25, 0.25]", "std: [0.25, .inf, 0.25]", "cameras[0].std", "std: [0.25, .inf", "finite positive"},
		{"infinite pose scale", "pose_scale: [1, 1, 1, 1, 1, 1]", "pose_scale: [1, 1, .inf, 1, 1, 1]", "action.pose_scale", "pose_scale:", "finite and > 0"},
		{"NaN gripper threshold", "gripper_threshold: 0.5", "gripper_threshold: .nan", "action.gripper_threshold", "gripper_threshold:", "want in (0, 1)"},
		{"absurd shape", "hidden_1: {dtype: float32, shape: [1, 8, 16]}", "hidden_1: {dtype: float32, shape: [1, 4294967296, 4294967296]}", "tensors.hidden_1.shape", "hidden_1: {", "more than 67108864 elements"},
		{"weight bytes that overflow a sum", "weight_bytes: 40964", "weight_bytes: 9223372036854775807", "encoder.weight_bytes", "weight_bytes: 9223", "want in [0, "},
		{"shape whose element count wraps", "hidden_1: {dtype: float32, shape: [1, 8, 16]}", "hidden_1: {dtype: float32, shape: [1, 3, 6148914691236517206]}", "tensors.hidden_1.shape", "hidden_1: {", "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(orig, tc.old) {
				t.Fatalf("the tiny manifest has no %q", tc.old)
			}
			text := strings.Replace(orig, tc.old, tc.new, 1)
			_, err := policy.LoadManifest(copyTiny(t, text))
			var me *policy.ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want a ManifestError", err)
			}
			found := false
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				if errors.As(e, &me) && me.Field == tc.wfield {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("no error for %s in:\n%v", tc.wfield, err)
			}
			if want := lineNumber(text, tc.wlineOf); me.Line != want {
				t.Errorf("line %d, want %d: %v", me.Line, want, me)
			}
			if !strings.Contains(me.Error(), tc.wcontains) || !strings.Contains(me.Error(), policy.ManifestFile) {
				t.Errorf("error %q lacks %q or the file name", me.Error(), tc.wcontains)
			}
		})
	}
}

func TestManifestRejectsUnknownFieldsAndBadYAML(t *testing.T) {
	orig := readTinyManifest(t)
	for name, text := range map[string]string{
		"unknown field": strings.Replace(orig, "name: tiny_test", "name: tiny_test\nnmae: typo", 1),
		"bad yaml":      strings.Replace(orig, "format: deer-vla/v1", "format: [deer-vla/v1", 1),
	} {
		_, err := policy.LoadManifest(copyTiny(t, text))
		if err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%s: error %v, want one naming a line", name, err)
		}
	}
	if _, err := policy.LoadManifest(t.TempDir()); err == nil || !strings.Contains(err.Error(), policy.ManifestFile) {
		t.Errorf("missing manifest: %v", err)
	}
}

func FuzzManifest(f *testing.F) {
	f.Add([]byte(readTinyManifestF(f)))
	f.Add([]byte("format: deer-vla/v1\nexits: [{}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Any input gives a manifest or an error, never a panic.
		_, _ = policy.ParseManifest(filepath.Join(tinyDir, policy.ManifestFile), data)
	})
}

func readTinyManifestF(f *testing.F) string {
	data, err := os.ReadFile(filepath.Join(tinyDir, policy.ManifestFile))
	if err != nil {
		f.Fatal(err)
	}
	return string(data)
}

package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// manifestFieldError loads the tiny model with edits and returns the error
// for field, failing if there is none.
func manifestFieldError(t *testing.T, field string, edits ...string) *policy.ManifestError {
	t.Helper()
	text := readTinyManifest(t)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("the tiny manifest has no %q", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	_, err := policy.LoadManifest(copyTiny(t, text))
	if err == nil {
		t.Fatalf("manifest loaded, want an error for %s", field)
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var me *policy.ManifestError
		if errors.As(e, &me) && me.Field == field {
			return me
		}
	}
	t.Fatalf("no error for %s in:\n%v", field, err)
	return nil
}

// The fields real-size models use (resize: clip, tokenizer.prompt and
// stage data files) are read and checked.
func TestManifestModelFields(t *testing.T) {
	ok := readTinyManifest(t)
	ok = strings.Replace(ok, "resize: bilinear", "resize: clip", 1)
	ok = strings.Replace(ok, "file: block_2.onnx", "file: block_2.onnx\n    data: block_2.onnx", 1)
	m, err := policy.LoadManifest(copyTiny(t, ok))
	if err != nil {
		t.Fatal(err)
	}
	if m.Cameras[0].Resize != policy.ResizeCLIP || m.Exits[1].Data != "block_2.onnx" {
		t.Errorf("resize %q, exit 2 data %q", m.Cameras[0].Resize, m.Exits[1].Data)
	}

	tests := []struct {
		name, field, wcontains string
		edits                  []string
	}{
		{"clip needs a square", "cameras[0].resize", "must be equal", []string{"resize: bilinear", "resize: clip", "width: 16", "width: 17"}},
		{"prompt needs hf", "tokenizer.prompt", "needs kind hf", []string{"lowercase: true", "lowercase: true\n  prompt: \"<image>{instruction}\""}},
		{"prompt placeholder", "tokenizer.prompt", "exactly once", []string{"kind: words", "kind: hf", "lowercase: true", "lowercase: true\n  prompt: \"<image>{instr}\""}},
		{"missing data file", "exits[1].data", "no such file", []string{"file: block_2.onnx", "file: block_2.onnx\n    data: block_2.onnx.data"}},
		{"missing head data", "head.data", "no such file", []string{"file: head.onnx", "file: head.onnx\n  data: head.data"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			me := manifestFieldError(t, tc.field, tc.edits...)
			if !strings.Contains(me.Error(), tc.wcontains) {
				t.Errorf("error %q lacks %q", me.Error(), tc.wcontains)
			}
		})
	}
}

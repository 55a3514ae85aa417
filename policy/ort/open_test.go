package ort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
)

// copyModel copies the tiny model to a temporary folder, applying edits to
// the manifest text and replacing files.
func copyModel(t *testing.T, edits map[string]string, files map[string][]byte) *policy.Manifest {
	t.Helper()
	src, dir := tinyDir(t), t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == policy.ManifestFile {
			text := string(data)
			for old, new := range edits {
				if !strings.Contains(text, old) {
					t.Fatalf("manifest has no %q", old)
				}
				text = strings.Replace(text, old, new, 1)
			}
			data = []byte(text)
		}
		if repl, ok := files[e.Name()]; ok {
			data = repl
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := policy.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Mismatches between the manifest and the ONNX files, and unreadable
// files, fail when the model opens, naming the stage and tensor.
func TestOpenReportsModelProblems(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]string
		files map[string][]byte
		want  []string
	}{
		{"corrupt onnx", nil, map[string][]byte{"block_2.onnx": []byte("not a protobuf")}, []string{"exit 2", "block_2.onnx", "not a readable ONNX model"}},
		{"truncated onnx", nil, map[string][]byte{"head.onnx": truncated(t, "head.onnx")}, []string{"head", "not a readable ONNX model"}},
		{"wrong shape", map[string]string{"hidden_3: {dtype: float32, shape: [1, 8, 16]}": "hidden_3: {dtype: float32, shape: [1, 8, 32]}"}, nil, []string{"exit 1", `"hidden_3"`, "[1 8 16]", "[1 8 32]"}},
		{"wrong dtype", map[string]string{"visual_tokens: {dtype: float32": "visual_tokens: {dtype: int64"}, nil, []string{"encoder", `"visual_tokens"`, "int64"}},
		{"wrong output name", map[string]string{"outputs: [visual_tokens, hidden_1, feature_1]": "outputs: [visual_tokens, hidden_1, feature_1, feature_0]",
			"feature_1: {dtype: float32, shape: [1, 16]}": "feature_1: {dtype: float32, shape: [1, 16]}\n  feature_0: {dtype: float32, shape: [1, 16]}"}, nil, []string{"encoder", `no output "feature_0"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := copyModel(t, tc.edits, tc.files)
			b, err := Open(m, Config{Library: libraryPath(t)})
			if err == nil {
				b.Close()
				t.Fatal("opened")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func truncated(t *testing.T, name string) []byte {
	data, err := os.ReadFile(filepath.Join(tinyDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return data[:len(data)/2]
}

func TestProviderErrors(t *testing.T) {
	m := loadTiny(t)
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Provider: ProviderCUDA}, "cuda execution provider is not available"},
		{Config{Provider: ProviderTensorRT}, "tensorrt execution provider is not available"},
		{Config{Provider: "vulkan"}, `"vulkan" is not one of cpu, cuda, tensorrt`},
		{Config{ProviderOptions: map[string]string{"device_id": "0"}}, "cpu provider, which takes none"},
		{Config{IntraOpThreads: -1}, "intra-op threads"},
	} {
		tc.cfg.Library = libraryPath(t)
		b, err := Open(m, tc.cfg)
		if err == nil {
			b.Close()
			t.Fatalf("%+v: opened", tc.cfg)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%+v: error %q lacks %q", tc.cfg, err, tc.want)
		}
	}
}

func TestMissingLibrary(t *testing.T) {
	err := initRuntime(filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
	if err == nil || !strings.Contains(err.Error(), "fetch_onnxruntime.sh") {
		t.Fatalf("error %v, want one that says how to get the library", err)
	}
}

// A cap releases the ONNX Runtime sessions of the blocks beyond it, and
// raising the cap loads them again.
func TestCapReleasesSessions(t *testing.T) {
	m := loadTiny(t)
	b, err := Open(m, Config{Library: libraryPath(t)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.New(policy.Config{Manifest: m, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for k := 0; k <= 5; k++ {
		if !b.Loaded(k) {
			t.Fatalf("stage %d not loaded at start", k)
		}
	}
	if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{PeakGFLOPs: m.Exits[1].GFLOPs}}); err != nil {
		t.Fatal(err)
	}
	if b.Loaded(3) || b.Loaded(4) || !b.Loaded(2) {
		t.Fatal("blocks 3 and 4 still have sessions under a 2-exit cap")
	}
	if _, err := e.SetSettings(policy.Settings{}); err != nil {
		t.Fatal(err)
	}
	g := loadGolden(t)
	// Steps go on while the blocks load in the background; on a busy
	// machine that takes a while, so wait by the clock, not by steps.
	for start := time.Now(); time.Since(start) < 30*time.Second; {
		r, err := e.Step(g.Steps[0].observation())
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxExit == 4 {
			return
		}
	}
	t.Fatal("blocks 3 and 4 did not come back within 30 s of steps")
}

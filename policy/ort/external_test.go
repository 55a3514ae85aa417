package ort

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/deervla/deer_vla/policy"
)

func loadManifest(t testing.TB, dir string) *policy.Manifest {
	t.Helper()
	m, err := policy.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The graph interface read from the protobuf is what ONNX Runtime reports
// for the same file, for the tiny model's stages and for models with
// external data.
func TestONNXInterfaceMatchesRuntime(t *testing.T) {
	if err := initRuntime(libraryPath(t)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(tinyDir(t), "*.onnx"))
	ext, _ := filepath.Glob(filepath.Join(writeFakeModel(t, fakeModel{width: 16, exits: 2, external: true}), "*.onnx"))
	files = append(files, ext...)
	if len(files) < 8 {
		t.Fatalf("found %d ONNX files", len(files))
	}
	for _, path := range files {
		oi, err := readONNXInterface(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ins, outs, err := ortgo.GetInputOutputInfo(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, c := range []struct {
			kind      string
			got, want []ortgo.InputOutputInfo
		}{{"inputs", oi.inputs, ins}, {"outputs", oi.outputs, outs}} {
			if !slices.EqualFunc(c.got, c.want, func(a, b ortgo.InputOutputInfo) bool {
				return a.Name == b.Name && a.OrtValueType == b.OrtValueType && a.DataType == b.DataType && slices.Equal(a.Dimensions, b.Dimensions)
			}) {
				t.Errorf("%s %s: read %v, ONNX Runtime says %v", filepath.Base(path), c.kind, c.got, c.want)
			}
		}
	}
}

// A model whose weights are in external-data files runs, and acts exactly
// as the same model with its weights inside the ONNX files.
func TestExternalDataModelRuns(t *testing.T) {
	obs := &policy.Observation{Static: &policy.Image{Width: 4, Height: 4, Encoding: "rgb8", Data: make([]byte, 48)}, Instruction: "open the drawer"}
	for i := range obs.Static.Data {
		obs.Static.Data[i] = byte(i * 5)
	}
	var results [2][]policy.Action
	for i, external := range []bool{false, true} {
		dir := writeFakeModel(t, fakeModel{width: 32, exits: 3, external: external})
		data, _ := filepath.Glob(filepath.Join(dir, "*.data"))
		if want := map[bool]int{false: 0, true: 4}[external]; len(data) != want {
			t.Fatalf("external %v: %d data files, want %d", external, len(data), want)
		}
		e := newEngine(t, loadManifest(t, dir), policy.Settings{}, nil)
		for s := 0; s < 3; s++ {
			r, err := e.Step(obs)
			if err != nil {
				t.Fatal(err)
			}
			results[i] = append(results[i], r.Action)
		}
	}
	if !slices.Equal(results[0], results[1]) || results[0][0].Pose == ([6]float32{}) {
		t.Errorf("embedded weights give %v, external data %v", results[0], results[1])
	}
}

// External data that is missing, cut short, undeclared or declared for a
// file without any fails when the model opens, naming the file, before
// ONNX Runtime reads it.
func TestExternalDataProblems(t *testing.T) {
	dir := writeFakeModel(t, fakeModel{width: 32, exits: 2, external: true})
	manifest, err := os.ReadFile(filepath.Join(dir, policy.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(t *testing.T, old, new string) {
		text := string(manifest)
		if !strings.Contains(text, old) {
			t.Fatalf("manifest has no %q", old)
		}
		if err := os.WriteFile(filepath.Join(dir, policy.ManifestFile), []byte(strings.Replace(text, old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *testing.T) error {
		m, err := policy.LoadManifest(dir)
		if err != nil {
			return err
		}
		b, err := Open(m, Config{Library: libraryPath(t)})
		if err == nil {
			b.Close()
		}
		return err
	}
	block2 := filepath.Join(dir, "block_2.onnx.data")
	full, err := os.ReadFile(block2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T)
		want  []string
	}{
		{"missing", func(t *testing.T) { os.Remove(block2) }, []string{"exits[1].data", "block_2.onnx.data", "no such file"}},
		{"truncated", func(t *testing.T) { os.WriteFile(block2, full[:len(full)-1], 0o644) },
			[]string{"exit 2", "block_2.onnx.data", "4095 bytes", "needs 4096", "truncated"}},
		{"undeclared", func(t *testing.T) { edit(t, "    data: block_2.onnx.data\n", "") },
			[]string{"exit 2", "external data block_2.onnx.data", "declare it"}},
		{"declared, none used", func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "head.data"), nil, 0o644)
			edit(t, "file: head.onnx\n", "file: head.onnx\n  data: head.data\n")
		}, []string{"head", "head.data", "no tensor in external data"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := open(t); err != nil {
				t.Fatalf("the intact model fails: %v", err)
			}
			tc.setup(t)
			t.Cleanup(func() {
				os.WriteFile(block2, full, 0o644)
				os.WriteFile(filepath.Join(dir, policy.ManifestFile), manifest, 0o644)
			})
			err := open(t)
			if err == nil {
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

// BenchmarkStageCheck compares the stage check's cost, reading the graph
// from the protobuf, with what onnxruntime_go's GetInputOutputInfo costs:
// a temporary session that loads every weight (here a 16 MiB block in
// external data).
func BenchmarkStageCheck(b *testing.B) {
	if err := initRuntime(libraryPath(b)); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(writeFakeModel(b, fakeModel{width: 2048, exits: 1, external: true}), "block_1.onnx")
	b.Run("graph", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := readONNXInterface(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("temporary-session", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := ortgo.GetInputOutputInfo(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}

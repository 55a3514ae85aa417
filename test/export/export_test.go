// Package export tests tools/export, the DeeR-VLA exporter, end to end: a
// tiny random checkpoint in DeeR's key layout is generated, exported, and
// run by the Go engine through ONNX Runtime against the exporter's own torch
// modules. The exporter runs on Debian's /usr/bin/python3 with python3-torch,
// python3-onnx and python3-pil (scripts/install_python_deps.sh).
package export

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/tools/export/parity"
)

const python = "/usr/bin/python3"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func ortLibrary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		return p
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	p := filepath.Join(repoRoot(), "third_party", "onnxruntime", "1.24.3", "linux-"+arch, "libonnxruntime.so.1")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("ONNX Runtime not found (%v): run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH", err)
	}
	return p
}

// exporter runs tools/export/deer_export.py; it returns the combined output
// and whether it succeeded.
func exporter(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch, onnx, PIL").Run(); err != nil {
		t.Fatalf("%s lacks torch, onnx or PIL (%v): run scripts/install_python_deps.sh", python, err)
	}
	// One torch thread: the models are tiny, and spinning threads on a
	// shared machine cost more than they give.
	args = append(append([]string{python, filepath.Join(repoRoot(), "tools", "export", "deer_export.py")}, args...), "--threads", "1")
	cmd := exec.Command("nice", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return out.String(), err == nil
}

// tiny writes a tiny DeeR checkpoint, MPT, CLIP and tokenizer into dir.
func tiny(t *testing.T, dir string, extra ...string) {
	t.Helper()
	// A narrower head than DeeR's 1024 keeps the test fast; the layout is the same.
	if out, ok := exporter(t, append([]string{"tiny", "--out", dir, "--head-hidden", "128"}, extra...)...); !ok {
		t.Fatalf("tiny checkpoint: %s", out)
	}
}

func inputs(src string) []string {
	return []string{"--checkpoint", filepath.Join(src, "deer_tiny.pth"), "--lm-dir", filepath.Join(src, "mpt"),
		"--clip", filepath.Join(src, "clip.pt"), "--tokenizer", filepath.Join(src, "tokenizer.json")}
}

// exportTiny generates a tiny checkpoint with the given tiny arguments,
// exports it (stages over 2 MB of weights into external-data files) and
// reads the manifest and the exporter's goldens.
func exportTiny(t *testing.T, tinyArgs ...string) (string, *policy.Manifest, *parity.Golden) {
	t.Helper()
	dir := t.TempDir()
	src, model, golden := filepath.Join(dir, "src"), filepath.Join(dir, "model"), filepath.Join(dir, "golden.json")
	tiny(t, src, tinyArgs...)
	args := append([]string{"export"}, inputs(src)...)
	args = append(args, "--out", model, "--golden", golden, "--external-data-above-mb", "2", "--name", "deer_tiny_test")
	out, ok := exporter(t, args...)
	if !ok {
		t.Fatalf("export: %s", out)
	}
	t.Log(lastLines(out, 9))
	m, err := policy.LoadManifest(model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := parity.ReadGolden(golden)
	if err != nil {
		t.Fatal(err)
	}
	return model, m, g
}

// compare runs the golden's episode through the Go engine and fails on any
// difference from torch beyond 1e-4 or any other exit choice.
func compare(t *testing.T, model string, g *parity.Golden) *parity.Report {
	t.Helper()
	rep, err := parity.Compare(model, g, ortLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if f := rep.Failures(); len(f) > 0 {
		t.Fatalf("Go engine vs torch:\n%s", strings.Join(f, "\n"))
	}
	if rep.Tolerance != 1e-4 || rep.Steps != 10 {
		t.Fatalf("tolerance %g over %d steps, want 1e-4 over 10", rep.Tolerance, rep.Steps)
	}
	if ex := rep.ExitsChosen["deer_median"]; len(slices.Compact(slices.Sorted(slices.Values(ex)))) < 3 {
		t.Fatalf("DeeR run took exits %v: the thresholds should spread the steps over several exits", ex)
	}
	if rep.PixelLevels > 1 {
		t.Fatalf("camera tensors are %.3g uint8 levels from PIL's resize and crop", rep.PixelLevels)
	}
	return rep
}

// TestExportMatchesTorch exports a tiny checkpoint of DeeR-3B's layout (the
// encoder's weights in an external-data file; layer 3's MPT weights from
// the language model's file, the other layers' from the checkpoint's
// copies, as DeeR saves them), runs the recorded episode (CALVIN-sized
// images, two instructions, 10 steps) through the Go engine at full depth,
// with DeeR thresholds and at exit 1 only, and compares visual tokens,
// every exit's feature, actions, distances, chosen exits and the committed
// LSTM state with the exporter's torch modules.
func TestExportMatchesTorch(t *testing.T) {
	t.Parallel()
	model, m, g := exportTiny(t, "--drop-key", "lang_encoder.old_decoder_blocks.3.")
	if len(m.Exits) != 3 || m.Exits[0].Feature != "feature_2" || m.Exits[2].Feature != "feature_6" {
		t.Fatalf("exits %+v, want 3 exits after layers 1, 3, 5 (early_exit_layer 5, exit_interval 2)", m.Exits)
	}
	if m.Encoder.Data != "encoder.onnx.data" || m.Exits[0].Data != "" {
		t.Fatalf("encoder data %q, block_1 data %q: want only the encoder (over 2 MB) in an external-data file",
			m.Encoder.Data, m.Exits[0].Data)
	}
	// Cumulative decoder cost: layer 0 (in the encoder stage) counts with exit 1.
	if x := m.Exits; !(x[0].GFLOPs > 0 && near(x[1].GFLOPs, 2*x[0].GFLOPs) && near(x[2].GFLOPs, 3*x[0].GFLOPs)) {
		t.Fatalf("exit GFLOPs %v, %v, %v: want 2, 4, 6 equal layers", x[0].GFLOPs, x[1].GFLOPs, x[2].GFLOPs)
	}
	compare(t, model, g)

	// The comparison itself must notice a wrong value and a wrong exit.
	g.Steps[4].ExitFeatures[1][0] += 1e-3
	g.Runs[1].Results[2].Exit = 3 - g.Runs[1].Results[2].Exit%3
	rep, err := parity.Compare(model, g, ortLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Join(rep.Failures(), "\n")
	if !strings.Contains(f, "exit features differ") || !strings.Contains(f, "run deer_median step 2: exit") {
		t.Fatalf("a corrupted golden passed: %q", f)
	}
}

// TestExport9BLayout: DeeR-9B's layout (an MPT-7B "mpt" config, learned
// positions beside ALiBi, cross-attention every 4th layer, every layer
// kept, a LayerNorm-LSTM head without MLP dropout) exports and matches too;
// blocks without cross-attention take no visual input.
func TestExport9BLayout(t *testing.T) {
	t.Parallel()
	model, m, g := exportTiny(t, "--variant", "9b")
	if len(m.Exits) != 4 || slices.Contains(m.Exits[0].Inputs, "visual_tokens") || !slices.Contains(m.Exits[1].Inputs, "visual_tokens") {
		t.Fatalf("exits %+v: want 4, the first (layer 1) without cross-attention, the second (layers 2-3) with", m.Exits)
	}
	if m.Head.Data != "" || len(m.Tensors["h_in"].Shape) != 3 || m.Tensors["h_in"].Shape[0] != 2 {
		t.Fatalf("head data %q, state %v: want an inline head with 2 LSTM layers", m.Head.Data, m.Tensors["h_in"].Shape)
	}
	compare(t, model, g)
}

// TestExportRejectsMissingKeys: a checkpoint without some trained tensors
// fails before anything is written, naming every missing key.
func TestExportRejectsMissingKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	missing := []string{"perceiver.layers.2.0.to_q.weight", "extra_exit.rnn.weight_hh_l1", "lang_encoder.transformer.wte.weight"}
	var drop []string
	for _, k := range missing {
		drop = append(drop, "--drop-key", k)
	}
	tiny(t, src, drop...)
	out, ok := exporter(t, append(append([]string{"export"}, inputs(src)...), "--out", filepath.Join(dir, "model"))...)
	if ok {
		t.Fatalf("export of a checkpoint missing %v succeeded: %s", missing, out)
	}
	if !strings.Contains(out, "3 missing keys") {
		t.Fatalf("error does not count the missing keys: %s", out)
	}
	for _, k := range missing {
		if !strings.Contains(out, k) {
			t.Errorf("error does not name %s: %s", k, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "model", "manifest.yaml")); err == nil {
		t.Error("a manifest was written for a checkpoint that failed")
	}
}

// TestExportRejectsBadFlags: a head layout flag the exporter does not know,
// and one that contradicts the weights, fail with the flag or the keys named.
func TestExportRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ flag, want string }{
		{`dropout_mode="sideways"`, "flag dropout_mode='sideways'"},
		// Without the LayerNorms the head's Linear layers sit elsewhere.
		{`mlp_layernorm=false`, "unexpected keys: extra_exit.actions.mlp.2.bias"},
	} {
		t.Run(c.flag, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			tiny(t, src, "--set-flag", c.flag)
			out, ok := exporter(t, append(append([]string{"export"}, inputs(src)...), "--out", filepath.Join(dir, "model"))...)
			if ok || !strings.Contains(out, c.want) {
				t.Errorf("export ok=%v, want an error containing %q: %s", ok, c.want, out)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-7*b && b-a < 1e-7*b }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

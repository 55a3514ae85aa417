// Package policytest provides a scripted policy.Backend and a small model
// folder for tests of the engine and of packages that use it, without ONNX
// Runtime. It is like raft's rafttest: a real implementation of the
// interface, deterministic and observable.
package policytest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// Model sizes of the folder WriteModel makes.
const (
	FeatureDim = 6 // exit features are [1, 6]: the head copies them to the pose
	MaxTokens  = 4
	ImageSize  = 4 // static camera 4x4 rgb, exact size
)

// Vocab is the test model's vocabulary.
var Vocab = []string{"<pad>", "<unk>", "move", "to", "the", "red", "blue", "block"}

// WriteModel writes a model folder with exits exit blocks (exit i costs
// i GFLOPs and i MB of weights; the encoder and head 1 MB each) and empty
// stage files, for use with [Backend]. It returns the loaded manifest.
func WriteModel(tb testing.TB, exits int) *policy.Manifest {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, `format: deer-vla/v1
name: scripted
cameras:
  - {slot: static, tensor: static_image, width: %[1]d, height: %[1]d, channels: rgb, mean: [0, 0, 0], std: [1, 1, 1], resize: exact}
tokenizer: {kind: words, vocab: vocab.txt, lowercase: true, max_tokens: %[2]d, pad_id: 0, unk_id: 1, tokens_tensor: tokens, mask_tensor: token_mask}
encoder: {file: encoder.onnx, inputs: [static_image, tokens, token_mask], outputs: [hidden_0, feature_0], gflops: 0.5, weight_bytes: 1000000}
reference_feature: feature_0
exits:
`, ImageSize, MaxTokens)
	for i := 1; i <= exits; i++ {
		fmt.Fprintf(&b, "  - {file: block.onnx, inputs: [hidden_%d], outputs: [hidden_%d, feature_%d], feature: feature_%d, gflops: %d, weight_bytes: %d}\n",
			i-1, i, i, i, i, i*1000000)
	}
	fmt.Fprintf(&b, `head: {file: head.onnx, feature: head_feature, state_inputs: [state_in], state_outputs: [state_out], pose: pose, gripper: gripper, gflops: 0.01, weight_bytes: 1000000}
action: {pose_scale: [1, 1, 1, 2, 2, 2], gripper_threshold: 0.5}
tensors:
  static_image: {dtype: float32, shape: [1, 3, %[1]d, %[1]d]}
  tokens: {dtype: int64, shape: [1, %[2]d]}
  token_mask: {dtype: float32, shape: [1, %[2]d]}
  head_feature: {dtype: float32, shape: [1, %[3]d]}
  state_in: {dtype: float32, shape: [1, %[3]d]}
  state_out: {dtype: float32, shape: [1, %[3]d]}
  pose: {dtype: float32, shape: [1, 6]}
  gripper: {dtype: float32, shape: [1, 1]}
`, ImageSize, MaxTokens, FeatureDim)
	for i := 0; i <= exits; i++ {
		fmt.Fprintf(&b, "  hidden_%d: {dtype: float32, shape: [1, %d]}\n  feature_%d: {dtype: float32, shape: [1, %d]}\n", i, FeatureDim, i, FeatureDim)
	}
	files := map[string]string{
		policy.ManifestFile: b.String(),
		"vocab.txt":         strings.Join(Vocab, "\n") + "\n",
		"encoder.onnx":      "", "block.onnx": "", "head.onnx": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	m, err := policy.LoadManifest(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Image returns a static-camera frame of the test model's size filled with v.
func Image(v byte) *policy.Image {
	data := make([]byte, ImageSize*ImageSize*3)
	for i := range data {
		data[i] = v
	}
	return &policy.Image{Width: ImageSize, Height: ImageSize, Encoding: "rgb8", Data: data}
}

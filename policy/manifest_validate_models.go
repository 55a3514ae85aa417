package policy

import "strings"

// Checks of the manifest fields that real-size models need: CLIP
// preprocessing, prompt templates and external-data ONNX files.

// clipCamera checks a camera with resize: clip. The centre crop is square:
// the shorter side is resized to width, then width x height is cut out.
func (c *checker) clipCamera(f string, cam CameraSpec) {
	if cam.Width != cam.Height {
		c.add(f+".resize", "clip crops a square: width %d and height %d must be equal", cam.Width, cam.Height)
	}
}

// prompt checks the tokenizer's prompt template.
func (c *checker) prompt(t TokenizerSpec) {
	if t.Prompt == "" {
		return
	}
	if t.Kind != TokenizerHF {
		c.add("tokenizer.prompt", "needs kind hf (the words tokenizer has no special tokens to place)")
	}
	if n := strings.Count(t.Prompt, PromptInstruction); n != 1 {
		c.add("tokenizer.prompt", "must contain %s exactly once, has it %d times", PromptInstruction, n)
	}
}

// data checks a stage's optional external-data file. Its size is checked
// against the ONNX file's tensors by the backend, which reads them.
func (c *checker) data(f, name string) {
	if name != "" {
		c.file(f, name)
	}
}

package policy

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// neoxGolden is testdata/neox/golden.json, written by
// testdata/gen_token_golden.sh with Hugging Face tokenizers itself.
type neoxGolden struct {
	Prompt string `json:"prompt"`
	Cases  []struct {
		Instruction string  `json:"instruction"`
		PromptIDs   []int64 `json:"prompt_ids"`
		PlainIDs    []int64 `json:"plain_ids"`
	} `json:"cases"`
}

// neoxModelDir unpacks the GPT-NeoX tokenizer.json with DeeR's added
// tokens into a temporary model folder.
func neoxModelDir(t *testing.T) (string, neoxGolden) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "neox", "tokenizer.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var g neoxGolden
	data, err = os.ReadFile(filepath.Join("testdata", "neox", "golden.json"))
	if err == nil {
		err = json.Unmarshal(data, &g)
	}
	if err != nil || len(g.Cases) == 0 {
		t.Fatalf("golden.json: %v (%d cases)", err, len(g.Cases))
	}
	return dir, g
}

// neoxSpec is the tokenizer section of a DeeR model's manifest.
func neoxSpec(prompt string, maxTokens int) TokenizerSpec {
	return TokenizerSpec{Kind: TokenizerHF, Vocab: "tokenizer.json", Prompt: prompt, MaxTokens: maxTokens, PadID: 50279}
}

// Token ids for CALVIN-style instructions equal Hugging Face tokenizers'
// for the GPT-NeoX tokenizer with DeeR's added tokens: the prompt's special
// tokens are matched whole, the instruction is stripped as Python strips,
// runs of spaces become GPT-NeoX's space tokens, and the rest is padded
// with pad_id under a zero mask or truncated to max_tokens.
func TestNeoXTokenIDsMatchHuggingFace(t *testing.T) {
	dir, g := neoxModelDir(t)
	const maxTokens = 24
	withPrompt, err := NewTokenizer(dir, neoxSpec(g.Prompt, maxTokens))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewTokenizer(dir, neoxSpec("", 64))
	if err != nil {
		t.Fatal(err)
	}
	ids, mask := make([]int64, maxTokens), make([]float32, maxTokens)
	ids64, mask64 := make([]int64, 64), make([]float32, 64)
	truncated := false
	for _, c := range g.Cases {
		if err := withPrompt.Encode(c.Instruction, ids, mask); err != nil {
			t.Fatalf("%q: %v", c.Instruction, err)
		}
		n := min(len(c.PromptIDs), maxTokens)
		truncated = truncated || n < len(c.PromptIDs)
		want := slices.Clone(c.PromptIDs[:n])
		wmask := make([]float32, maxTokens)
		for i := range wmask {
			if i < n {
				wmask[i] = 1
			} else {
				want = append(want, 50279)
			}
		}
		if !slices.Equal(ids, want) || !slices.Equal(mask, wmask) {
			t.Errorf("%q with the prompt:\n ids  %v\n want %v\n mask %v", c.Instruction, ids, want, mask)
		}
		// Without a prompt, the stripped instruction alone: a check of
		// the BPE without special tokens.
		if err := plain.Encode(c.Instruction, ids64, mask64); err != nil {
			t.Fatalf("%q: %v", c.Instruction, err)
		}
		if got := ids64[:len(c.PlainIDs)]; !slices.Equal(got, c.PlainIDs) || mask64[len(c.PlainIDs)] != 0 {
			t.Errorf("%q without a prompt:\n ids  %v\n want %v", c.Instruction, ids64, c.PlainIDs)
		}
	}
	if !truncated {
		t.Error("no golden case is longer than max_tokens: truncation is untested")
	}
}

// An instruction of white space alone is empty, prompt or not.
func TestNeoXEmptyInstruction(t *testing.T) {
	dir, g := neoxModelDir(t)
	tok, err := NewTokenizer(dir, neoxSpec(g.Prompt, 8))
	if err != nil {
		t.Fatal(err)
	}
	ids, mask := make([]int64, 8), make([]float32, 8)
	for _, s := range []string{"", "   ", "\t\n", "\x1c \u00a0"} {
		if err := tok.Encode(s, ids, mask); !errors.Is(err, ErrEmptyInstruction) {
			t.Errorf("%q: error %v, want ErrEmptyInstruction", s, err)
		}
	}
}

// pad_id must be one of the tokenizer's ids.
func TestNeoXPadIDInVocabulary(t *testing.T) {
	dir, _ := neoxModelDir(t)
	spec := neoxSpec("", 8)
	spec.PadID = 50280 // one past DeeR's <PAD>
	if _, err := NewTokenizer(dir, spec); err == nil {
		t.Error("pad_id 50280 accepted; the last id is 50279")
	}
}

// A prompt may not use an added token whose lstrip, rstrip or single_word
// the engine would not apply.
func TestNeoXPromptRejectsStrippingAddedTokens(t *testing.T) {
	dir, g := neoxModelDir(t)
	path := filepath.Join(dir, "tokenizer.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tj map[string]any
	if err := json.Unmarshal(data, &tj); err != nil {
		t.Fatal(err)
	}
	for _, at := range tj["added_tokens"].([]any) {
		if at := at.(map[string]any); at["content"] == "<image>" {
			at["rstrip"] = true
		}
	}
	if data, err = json.Marshal(tj); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTokenizer(dir, neoxSpec(g.Prompt, 8)); err == nil || !strings.Contains(err.Error(), `"<image>"`) {
		t.Errorf("error %v, want one naming <image>", err)
	}
	if _, err := NewTokenizer(dir, neoxSpec("{instruction}", 8)); err != nil {
		t.Errorf("a prompt without the token: %v", err)
	}
}

package policy

import (
	"slices"
	"testing"
)

// A Hugging Face tokenizer.json (WordPiece with BERT's normaliser and a
// [CLS] ... [SEP] template) is applied whole: lowercasing, punctuation
// split, sub-words, unknown words and special tokens.
func TestHFTokenizer(t *testing.T) {
	spec := TokenizerSpec{Kind: TokenizerHF, Vocab: "tokenizer.json", MaxTokens: 8, PadID: 0}
	tok, err := NewTokenizer("testdata", spec)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 8)
	mask := make([]float32, 8)
	tests := []struct {
		text  string
		wids  []int64
		wmask []float32
	}{
		{"Pick up the red blocks!", []int64{2, 4, 5, 6, 7, 8, 9, 10}, []float32{1, 1, 1, 1, 1, 1, 1, 1}},
		{"pick up the purple block", []int64{2, 4, 5, 6, 1, 8, 3, 0}, []float32{1, 1, 1, 1, 1, 1, 1, 0}},
	}
	for _, tc := range tests {
		if err := tok.Encode(tc.text, ids, mask); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, tc.wids) || !slices.Equal(mask, tc.wmask) {
			t.Errorf("%q: ids %v mask %v, want %v %v", tc.text, ids, mask, tc.wids, tc.wmask)
		}
	}
	if err := tok.Encode("   ", ids, mask); err != ErrEmptyInstruction {
		t.Errorf("blank: %v", err)
	}
	if _, err := NewTokenizer("testdata", TokenizerSpec{Kind: TokenizerHF, Vocab: "missing.json", MaxTokens: 8}); err == nil {
		t.Error("a missing tokenizer.json loaded")
	}
}

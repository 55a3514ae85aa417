package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// wordsReference is the words tokenizer as specified: lowercase the
// instruction, split it on white space, strip punctuation from each word.
func wordsReference(vocab map[string]int64, spec TokenizerSpec, instruction string) []int64 {
	if spec.Lowercase {
		instruction = strings.ToLower(instruction)
	}
	var ids []int64
	for _, w := range strings.Fields(instruction) {
		if w = strings.Trim(w, ".,!?;:"); w == "" || len(ids) == spec.MaxTokens {
			continue
		}
		id, ok := vocab[w]
		if !ok {
			id = spec.UnkID
		}
		ids = append(ids, id)
	}
	return ids
}

// The words tokenizer lowercases, splits and strips as strings.ToLower,
// strings.Fields and strings.Trim do, without allocating.
func TestWordsTokenizer(t *testing.T) {
	dir := t.TempDir()
	words := []string{"<pad>", "<unk>", "pick", "up", "the", "red", "block", "énorme", "straße", "ǆ"}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(strings.Join(words, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lower := range []bool{true, false} {
		spec := TokenizerSpec{Kind: TokenizerWords, Vocab: "vocab.txt", Lowercase: lower, MaxTokens: 5, PadID: 0, UnkID: 1}
		tok, err := NewTokenizer(dir, spec)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, spec.MaxTokens)
		mask := make([]float32, spec.MaxTokens)
		for _, text := range []string{
			"pick up the red block",
			"  PICK\tup\nthe Red BLOCK.  ",
			"Pick, up! the: red? block;",
			"ÉNORME STRASSE Straße ǅ Ǆ",
			"pick\u00a0up\u2003the\u0085red", // non-ASCII spaces
			"pick up the red block and the red block again",
			"pickpickpickpickpickpickpickpickpick ... up",
			"pick \xff\xfe up",
		} {
			want := wordsReference(tok.vocab, spec, text)
			if err := tok.Encode(text, ids, mask); err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			for i := range ids {
				w, m := spec.PadID, float32(0)
				if i < len(want) {
					w, m = want[i], 1
				}
				if ids[i] != w || mask[i] != m {
					t.Fatalf("lowercase %v, %q: ids %v mask %v, want %v", lower, text, ids, mask, want)
				}
			}
		}
		text := "Pick up the RED Straße"
		if allocs := testing.AllocsPerRun(20, func() { tok.Encode(text, ids, mask) }); allocs != 0 {
			t.Errorf("lowercase %v: Encode made %v allocations, want 0", lower, allocs)
		}
	}
}

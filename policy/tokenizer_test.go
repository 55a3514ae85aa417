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

// checkEncoding checks Encode's contract on a success: ids with mask 1,
// then padding with mask 0.
func checkEncoding(t *testing.T, spec TokenizerSpec, ids []int64, mask []float32, vocab int64) {
	t.Helper()
	n := 0
	for n < len(mask) && mask[n] == 1 {
		if vocab > 0 && (ids[n] < 0 || ids[n] >= vocab) {
			t.Fatalf("id %d outside the %d-word vocabulary", ids[n], vocab)
		}
		n++
	}
	if n == 0 {
		t.Fatal("success with no tokens")
	}
	for i := n; i < len(ids); i++ {
		if mask[i] != 0 || ids[i] != spec.PadID {
			t.Fatalf("position %d: id %d mask %g after the tokens, want padding", i, ids[i], mask[i])
		}
	}
}

// FuzzTokenizerWords builds a words tokenizer from any vocabulary file and
// encodes any instruction with it.
func FuzzTokenizerWords(f *testing.F) {
	f.Add([]byte("<pad>\n<unk>\nmove\nto\nthe\nred\nblock\n"), "Move to the RED block.")
	f.Add([]byte("a\n\nb\n"), "a b")
	f.Add([]byte("a\na\n"), "")
	f.Fuzz(func(t *testing.T, vocab []byte, instruction string) {
		spec := TokenizerSpec{Kind: TokenizerWords, Lowercase: true, MaxTokens: 4, PadID: 0, UnkID: 1}
		tok, err := parseTokenizer("vocab.txt", vocab, spec)
		if err != nil {
			return
		}
		ids, mask := make([]int64, 4), make([]float32, 4)
		if err := tok.Encode(instruction, ids, mask); err != nil {
			return
		}
		checkEncoding(t, spec, ids, mask, int64(len(tok.vocab)))
	})
}

// FuzzTokenizerHF builds a Hugging Face tokenizer from any tokenizer.json
// (seeded with the test one) and encodes any instruction with it: errors
// are fine, panics are not.
func FuzzTokenizerHF(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "tokenizer.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, "Pick up the red blocks!")
	f.Add([]byte(`{"model": {"type": "WordPiece", "vocab": {}}}`), "x")
	f.Fuzz(func(t *testing.T, json []byte, instruction string) {
		spec := TokenizerSpec{Kind: TokenizerHF, MaxTokens: 8, PadID: 0}
		tok, err := parseTokenizer("tokenizer.json", json, spec)
		if err != nil {
			return
		}
		ids, mask := make([]int64, 8), make([]float32, 8)
		if err := tok.Encode(instruction, ids, mask); err != nil {
			return
		}
		checkEncoding(t, spec, ids, mask, 0)
	})
}

func TestInstructionLimit(t *testing.T) {
	tok, err := parseTokenizer("vocab.txt", []byte("<pad>\n<unk>\nmove\n"), TokenizerSpec{Kind: TokenizerWords, MaxTokens: 2, UnkID: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids, mask := make([]int64, 2), make([]float32, 2)
	long := strings.Repeat("move ", MaxInstructionBytes/5+1)
	if err := tok.Encode(long, ids, mask); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("an instruction of %d bytes: %v", len(long), err)
	}
	if err := tok.Encode(long[:MaxInstructionBytes], ids, mask); err != nil {
		t.Fatalf("an instruction at the limit: %v", err)
	}
}

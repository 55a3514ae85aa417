package policy

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
)

// Tokenizer kinds a manifest may declare.
const (
	TokenizerWords = "words" // whitespace split and a word list: small models
	TokenizerHF    = "hf"    // a Hugging Face tokenizer.json: real models
)

// ErrEmptyInstruction is returned for an instruction with no words.
var ErrEmptyInstruction = errors.New("policy: empty instruction")

// Tokenizer turns an instruction into fixed-length token ids and a mask.
type Tokenizer struct {
	spec  TokenizerSpec
	vocab map[string]int64       // words
	hf    *hftokenizer.Tokenizer // hf
}

// NewTokenizer reads the vocabulary (words) or tokenizer.json (hf) named by
// spec from the model folder dir.
func NewTokenizer(dir string, spec TokenizerSpec) (*Tokenizer, error) {
	path := filepath.Join(dir, spec.Vocab)
	if spec.Kind == TokenizerHF {
		hf, err := hftokenizer.NewFromFile(&api.Config{}, path)
		if err != nil {
			return nil, fmt.Errorf("policy: tokenizer %s: %w", path, err)
		}
		if !hasID(hf.GetVocab(), spec.PadID) {
			return nil, fmt.Errorf("policy: tokenizer: pad_id %d is no token of %s", spec.PadID, path)
		}
		for _, at := range hf.AddedTokensList() {
			// The splitter matches added tokens exactly; one that should
			// also take white space or match whole words only would give
			// other ids than the reference's, so a prompt may not use it.
			if (at.Lstrip || at.Rstrip || at.SingleWord) && strings.Contains(spec.Prompt, at.Content) {
				return nil, fmt.Errorf("policy: tokenizer %s: the prompt uses added token %q, whose lstrip, rstrip or single_word this engine does not apply", path, at.Content)
			}
		}
		return &Tokenizer{spec: spec, hf: hf}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: tokenizer: %w", err)
	}
	defer f.Close()
	t := &Tokenizer{spec: spec, vocab: map[string]int64{}}
	sc := bufio.NewScanner(f)
	for id := int64(0); sc.Scan(); id++ {
		word := strings.TrimSpace(sc.Text())
		if word == "" {
			return nil, fmt.Errorf("policy: tokenizer: %s:%d: empty token", path, id+1)
		}
		if _, dup := t.vocab[word]; dup {
			return nil, fmt.Errorf("policy: tokenizer: %s:%d: token %q appears twice", path, id+1, word)
		}
		t.vocab[word] = id
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("policy: tokenizer: %s: %w", path, err)
	}
	n := int64(len(t.vocab))
	if spec.PadID < 0 || spec.PadID >= n || spec.UnkID < 0 || spec.UnkID >= n {
		return nil, fmt.Errorf("policy: tokenizer: pad_id %d or unk_id %d outside the %d-token vocabulary %s", spec.PadID, spec.UnkID, n, path)
	}
	return t, nil
}

func hasID(vocab map[string]int, id int64) bool {
	for _, v := range vocab {
		if int64(v) == id {
			return true
		}
	}
	return false
}

// Encode writes the instruction's token ids and mask into ids and mask,
// which must both have max_tokens elements. Words are split on white space,
// stripped of surrounding punctuation, looked up (unknown words map to
// unk_id) and truncated to max_tokens; the rest is padding with mask 0.
func (t *Tokenizer) Encode(instruction string, ids []int64, mask []float32) error {
	if len(ids) != t.spec.MaxTokens || len(mask) != t.spec.MaxTokens {
		return fmt.Errorf("policy: tokenizer: buffers of %d and %d for max_tokens %d", len(ids), len(mask), t.spec.MaxTokens)
	}
	if t.hf != nil {
		return t.encodeHF(instruction, ids, mask)
	}
	if t.spec.Lowercase {
		instruction = strings.ToLower(instruction)
	}
	n := 0
	for _, w := range strings.Fields(instruction) {
		w = strings.Trim(w, ".,!?;:")
		if w == "" {
			continue
		}
		if n == len(ids) {
			break
		}
		id, ok := t.vocab[w]
		if !ok {
			id = t.spec.UnkID
		}
		ids[n], mask[n] = id, 1
		n++
	}
	if n == 0 {
		return ErrEmptyInstruction
	}
	t.pad(n, ids, mask)
	return nil
}

// PromptInstruction is the placeholder for the instruction in a tokenizer prompt.
const PromptInstruction = "{instruction}"

// encodeHF uses the tokenizer.json's own normalisation, pre-tokenisation,
// model and post-processing, then truncates. The instruction is stripped as
// Python's str.strip() does and placed in the prompt template, if any;
// added tokens (the template's special tokens) are matched whole, before
// the text around them is normalised and split, as Hugging Face tokenizers
// do.
func (t *Tokenizer) encodeHF(instruction string, ids []int64, mask []float32) error {
	instruction = strings.TrimFunc(instruction, pySpace)
	if instruction == "" {
		return ErrEmptyInstruction
	}
	if t.spec.Lowercase {
		instruction = strings.ToLower(instruction)
	}
	if t.spec.Prompt != "" {
		instruction = strings.Replace(t.spec.Prompt, PromptInstruction, instruction, 1)
	}
	enc := t.hf.Encode(instruction)
	n := min(len(enc), len(ids))
	for i := 0; i < n; i++ {
		ids[i], mask[i] = int64(enc[i]), 1
	}
	if n == 0 {
		return ErrEmptyInstruction
	}
	t.pad(n, ids, mask)
	return nil
}

// pySpace is Python's str.isspace for one character: Unicode white space
// and the four ASCII separators U+001C..U+001F, which Go does not count.
func pySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func (t *Tokenizer) pad(n int, ids []int64, mask []float32) {
	for i := n; i < len(ids); i++ {
		ids[i], mask[i] = t.spec.PadID, 0
	}
}

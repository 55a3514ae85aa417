package policy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deervla/deer_vla/internal/limitread"
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
	lower []byte                 // words: scratch for a lowercased word
	hf    *hftokenizer.Tokenizer // hf
}

// Limits on tokenizer input. Real tokenizer.json files are a few MB (the
// largest vocabularies some tens); an instruction is a sentence.
const (
	MaxTokenizerBytes   = 64 << 20
	MaxInstructionBytes = 64 << 10
)

// NewTokenizer reads the vocabulary (words) or tokenizer.json (hf) named by
// spec from the model folder dir.
func NewTokenizer(dir string, spec TokenizerSpec) (*Tokenizer, error) {
	path := filepath.Join(dir, spec.Vocab)
	data, err := limitread.File(path, MaxTokenizerBytes)
	if err != nil {
		return nil, fmt.Errorf("policy: tokenizer: %w", err)
	}
	return parseTokenizer(path, data, spec)
}

// parseTokenizer builds a tokenizer from the bytes of its file, read from path.
func parseTokenizer(path string, data []byte, spec TokenizerSpec) (_ *Tokenizer, err error) {
	if spec.Kind == TokenizerHF {
		// The tokenizer.json parser is third-party code reading a file
		// from outside: a panic on a malformed file becomes an error.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("policy: tokenizer %s: malformed tokenizer.json (parser panicked: %v)", path, p)
			}
		}()
		if err := checkAddedTokens(data); err != nil {
			return nil, fmt.Errorf("policy: tokenizer %s: %w", path, err)
		}
		hf, err := hftokenizer.NewFromContent(&api.Config{}, data)
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
	t := &Tokenizer{spec: spec, vocab: map[string]int64{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	longest := 0
	for id := int64(0); sc.Scan(); id++ {
		word := strings.TrimSpace(sc.Text())
		if word == "" {
			return nil, fmt.Errorf("policy: tokenizer: %s:%d: empty token", path, id+1)
		}
		if _, dup := t.vocab[word]; dup {
			return nil, fmt.Errorf("policy: tokenizer: %s:%d: token %q appears twice", path, id+1, word)
		}
		t.vocab[word] = id
		longest = max(longest, len(word))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("policy: tokenizer: %s: %w", path, err)
	}
	t.lower = make([]byte, 0, longest+utf8.UTFMax)
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

// checkAddedTokens refuses added tokens the tokenizer library cannot use:
// it matches added tokens in the text before anything else, and an empty
// one matches everywhere without advancing, so encoding never ends (and
// grows memory until the process dies).
func checkAddedTokens(data []byte) error {
	var tj struct {
		AddedTokens []struct {
			ID      *int64  `json:"id"`
			Content *string `json:"content"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		return err
	}
	for i, at := range tj.AddedTokens {
		if at.Content == nil || *at.Content == "" {
			return fmt.Errorf("added_tokens[%d] has no content", i)
		}
		if at.ID == nil || *at.ID < 0 {
			return fmt.Errorf("added_tokens[%d] (%q) has no id >= 0", i, *at.Content)
		}
	}
	return nil
}

// Encode writes the instruction's token ids and mask into ids and mask,
// which must both have max_tokens elements. Words are split on white space,
// stripped of surrounding punctuation, looked up (unknown words map to
// unk_id) and truncated to max_tokens; the rest is padding with mask 0.
func (t *Tokenizer) Encode(instruction string, ids []int64, mask []float32) error {
	if len(ids) != t.spec.MaxTokens || len(mask) != t.spec.MaxTokens {
		return fmt.Errorf("policy: tokenizer: buffers of %d and %d for max_tokens %d", len(ids), len(mask), t.spec.MaxTokens)
	}
	if len(instruction) > MaxInstructionBytes {
		return fmt.Errorf("policy: tokenizer: instruction of %d bytes, more than the %d-byte limit", len(instruction), MaxInstructionBytes)
	}
	if t.hf != nil {
		return t.encodeHF(instruction, ids, mask)
	}
	n := 0
	for rest := instruction; n < len(ids); {
		var w string
		if w, rest = nextField(rest); w == "" {
			break
		}
		w = strings.Trim(w, wordPunctuation)
		if w == "" {
			continue
		}
		ids[n], mask[n] = t.lookup(w), 1
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

// wordPunctuation is stripped from both ends of each word.
const wordPunctuation = ".,!?;:"

// nextField returns s's first run of non-space characters (as
// strings.Fields splits) and what follows it; an empty word when none is left.
func nextField(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	end := strings.IndexFunc(s, unicode.IsSpace)
	if end < 0 {
		end = len(s)
	}
	return s[:end], s[end:]
}

// lookup returns a word's id, lowercased first when the spec says so, as
// strings.ToLower would, in the tokenizer's scratch buffer: a step must
// not allocate. A word longer than the buffer is no vocabulary word.
func (t *Tokenizer) lookup(w string) int64 {
	if !t.spec.Lowercase {
		if id, ok := t.vocab[w]; ok {
			return id
		}
		return t.spec.UnkID
	}
	buf := t.lower[:0]
	for _, r := range w {
		if len(buf)+utf8.UTFMax > cap(buf) {
			return t.spec.UnkID
		}
		buf = utf8.AppendRune(buf, unicode.ToLower(r))
	}
	if id, ok := t.vocab[string(buf)]; ok { // no allocation: the compiler looks up without copying
		return id
	}
	return t.spec.UnkID
}

// encodeHF uses the tokenizer.json's own normalisation, pre-tokenisation,
// model and post-processing, then truncates. The instruction is stripped as
// Python's str.strip() does and placed in the prompt template, if any;
// added tokens (the template's special tokens) are matched whole, before
// the text around them is normalised and split, as Hugging Face tokenizers
// do.
func (t *Tokenizer) encodeHF(instruction string, ids []int64, mask []float32) (err error) {
	// Third-party code on outside input: a panic becomes the step's error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("policy: tokenizer: the tokenizer.json model failed on the instruction (panicked: %v)", p)
		}
	}()
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

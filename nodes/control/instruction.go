package control

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxInstructionBytes is the longest instruction the node takes; a longer
// one is refused. Instructions are a sentence or two: anything near this
// size is a wrong topic or a runaway publisher, and tokenisers keep only
// the first tokens anyway.
const MaxInstructionBytes = 4096

// logQuoteBytes is how much of an instruction a log line quotes.
const logQuoteBytes = 80

// InstructionError is a refused instruction: the previous one stays in
// force.
type InstructionError struct {
	Text, Reason string
	Previous     string // the instruction still in force, "" if none
}

func (e *InstructionError) Error() string {
	still := "no instruction yet"
	if e.Previous != "" {
		still = "still acting on " + ShortQuote(e.Previous)
	}
	return fmt.Sprintf("instruction %s refused: %s; %s", ShortQuote(e.Text), e.Reason, still)
}

// checkInstruction says why an instruction is refused, or "".
func checkInstruction(text string) string {
	switch {
	case len(text) > MaxInstructionBytes:
		return fmt.Sprintf("longer than %d bytes", MaxInstructionBytes)
	case strings.TrimSpace(text) == "":
		return "empty"
	}
	return ""
}

// ShortQuote quotes s for a log line: at most about 80 bytes of it, cut on
// a character boundary, with the full length noted when it was cut.
func ShortQuote(s string) string {
	if len(s) <= logQuoteBytes {
		return strconv.Quote(s)
	}
	cut := logQuoteBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s (%d bytes)", strconv.Quote(s[:cut]+"..."), len(s))
}

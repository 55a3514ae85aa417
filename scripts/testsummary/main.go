// Command testsummary reads `go test -json` on stdin and prints what a
// plain `go test` prints (a line per package, the full output of every
// failing test and failed package, build errors), then the tests that did
// not run and why, and one last line:
//
//	N passed, N failed, N skipped
//
// Top-level tests are counted (subtests fail or skip with their parent);
// a package that fails outside any test (a build error, a panic in
// TestMain, a timeout) counts as one failure. It exits 1 when anything
// failed, so scripts/test.sh can pipe into it with pipefail.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output events
	FailedBuild string
}

// summary accumulates the counts and what to show at the end.
type summary struct {
	out                     io.Writer
	passed, failed, skipped int
	skips                   []string                    // "pkg TestX: reason"
	failures                []string                    // "pkg TestX" or "pkg (build failed)"
	testOut                 map[string]*strings.Builder // output of running tests, by package and test
	pkgOut                  map[string]*strings.Builder // package output outside tests
	pkgTestFailed           map[string]bool
}

func main() {
	s := newSummary(os.Stdout)
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if s.finish() {
		os.Exit(1)
	}
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, testOut: map[string]*strings.Builder{}, pkgOut: map[string]*strings.Builder{}, pkgTestFailed: map[string]bool{}}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go vet, or a tool writing to stdout): show it.
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.add(&e)
	}
	return sc.Err()
}

func buf(m map[string]*strings.Builder, key string) *strings.Builder {
	b, ok := m[key]
	if !ok {
		b = &strings.Builder{}
		m[key] = b
	}
	return b
}

func (s *summary) add(e *event) {
	// Subtests' output goes with their top-level test's.
	top, _, sub := strings.Cut(e.Test, "/")
	key := e.Package + " " + top
	topLevel := e.Test != "" && !sub
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.out, e.Output)
	case e.Action == "output" && e.Test != "":
		buf(s.testOut, key).WriteString(e.Output)
	case e.Action == "output":
		buf(s.pkgOut, e.Package).WriteString(e.Output)
	case !topLevel && e.Test != "":
		// A subtest's result: its parent's result counts.
	case e.Action == "pass" && e.Test != "":
		s.passed++
		delete(s.testOut, key)
	case e.Action == "fail" && e.Test != "":
		s.failed++
		s.failures = append(s.failures, e.Package+" "+e.Test)
		s.pkgTestFailed[e.Package] = true
		fmt.Fprint(s.out, withoutRunnerLines(s.testOut[key].String()))
		delete(s.testOut, key)
	case e.Action == "skip" && e.Test != "":
		s.skipped++
		s.skips = append(s.skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, skipReason(s.testOut[key].String())))
		delete(s.testOut, key)
	case e.Test == "" && (e.Action == "pass" || e.Action == "skip"):
		fmt.Fprint(s.out, lastLine(s.pkgOut[e.Package].String()))
		delete(s.pkgOut, e.Package)
	case e.Test == "" && e.Action == "fail":
		// Everything the package printed outside its tests: the FAIL line,
		// and a panic or timeout if that is what failed it.
		fmt.Fprint(s.out, s.pkgOut[e.Package].String())
		if !s.pkgTestFailed[e.Package] {
			s.failed++
			why := "failed outside its tests"
			if e.FailedBuild != "" {
				why = "build failed"
			}
			s.failures = append(s.failures, fmt.Sprintf("%s (%s)", e.Package, why))
		}
		delete(s.pkgOut, e.Package)
	}
}

// skipReason is what a skipped test printed, without the runner's lines.
func skipReason(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		lines = append(lines, t)
	}
	if len(lines) == 0 {
		return "no reason given"
	}
	return strings.Join(lines, " ")
}

// withoutRunnerLines drops the "=== RUN" lines that only -v shows.
func withoutRunnerLines(out string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		if !strings.HasPrefix(l, "=== ") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func lastLine(out string) string {
	out = strings.TrimRight(out, "\n")
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if out == "" {
		return ""
	}
	return out + "\n"
}

// finish prints what did not run, what failed and the counts; it reports
// whether anything failed.
func (s *summary) finish() bool {
	if len(s.skips) > 0 {
		fmt.Fprintf(s.out, "\nnot run (skipped), and why:\n")
		for _, l := range s.skips {
			fmt.Fprintf(s.out, "  %s\n", l)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintf(s.out, "\nfailed:\n")
		for _, l := range s.failures {
			fmt.Fprintf(s.out, "  %s\n", l)
		}
	}
	fmt.Fprintf(s.out, "\n%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	return s.failed > 0
}

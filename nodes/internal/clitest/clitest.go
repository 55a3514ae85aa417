// Package clitest runs a command's main function in a child process of its
// own test binary, so tests can check what a user sees: the usage text,
// error messages and exit statuses.
package clitest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks the child process that runs main instead of the tests.
const childEnv = "DEER_VLA_CLITEST_MAIN"

// Main is a command test's TestMain: in the child it runs main (which
// reads os.Args) and exits 0 if main returns; otherwise it runs the tests.
func Main(m *testing.M, main func()) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs the command with args and returns its stdout, stderr and exit
// status.
func Run(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), status
}

// Usage checks that -h exits 0 and prints each of wants (on stderr, as
// the flag package does) and none of unwanted (e.g. old flag names).
func Usage(t *testing.T, wants, unwanted []string) {
	t.Helper()
	_, stderr, status := Run(t, "-h")
	if status != 0 {
		t.Errorf("-h: status %d", status)
	}
	for _, s := range wants {
		if !strings.Contains(stderr, s) {
			t.Errorf("usage lacks %q:\n%s", s, stderr)
		}
	}
	for _, s := range unwanted {
		if strings.Contains(stderr, s) {
			t.Errorf("usage shows %q:\n%s", s, stderr)
		}
	}
}

// Case is a command line and what it must give: the exit status, and a
// text its stderr must hold.
type Case struct {
	Args   []string
	Status int
	Stderr string
}

// Check runs each case.
func Check(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		_, stderr, status := Run(t, c.Args...)
		if status != c.Status || !strings.Contains(stderr, c.Stderr) {
			t.Errorf("%q: status %d, stderr %q; want %d and %q", c.Args, status, stderr, c.Status, c.Stderr)
		}
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/deervla/deer_vla/nodes/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

// -h prints what the tool does, its synopsis and its flags under the
// names the tools share; bad flags exit 2 with the reason.
func TestUsageAndBadFlags(t *testing.T) {
	_, stderr, status := clitest.Run(t, "-h")
	for _, s := range []string{"usage: deer_vla_demos [flags]", "Records demonstrations", "-model string", "-ort-lib string", "-out string", "Exit status"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("usage lacks %q:\n%s", s, stderr)
		}
	}
	if status != 0 || strings.Contains(stderr, "-policy") || strings.Contains(stderr, "  -lib string") {
		t.Errorf("-h: status %d, or an old flag name in:\n%s", status, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-policy", "x"}, "flag provided but not defined: -policy"},
		{[]string{"-budget", "0.3", "-exit", "2"}, "-budget and -exit exclude each other"},
		{[]string{"-episodes", "0"}, "-episodes must be >= 1"},
		{[]string{"-tasks", "juggle"}, "juggle"},
		{[]string{"stray"}, "unexpected arguments"},
	} {
		_, stderr, status := clitest.Run(t, tc.args...)
		if status != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: status %d, stderr %q; want 2 and %q", tc.args, status, stderr, tc.want)
		}
	}
}

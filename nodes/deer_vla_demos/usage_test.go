package main

import (
	"testing"

	"github.com/deervla/deer_vla/nodes/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

// -h prints what the tool does, its synopsis and its flags under the
// names the tools share; bad flags exit 2 with the reason.
func TestUsageAndBadFlags(t *testing.T) {
	clitest.Usage(t, []string{"usage: deer_vla_demos [flags]", "Records demonstrations", "-model DIR", "-ort-lib PATH", "-out DIR", "Exit status"},
		[]string{"-policy", "  -lib string"})
	clitest.Check(t, []clitest.Case{
		{Args: []string{"-policy", "x"}, Status: 2, Stderr: "flag provided but not defined: -policy"},
		{Args: []string{"-budget", "0.3", "-exit", "2"}, Status: 2, Stderr: "-budget and -exit exclude each other"},
		{Args: []string{"-episodes", "0"}, Status: 2, Stderr: "-episodes must be >= 1"},
		{Args: []string{"-tasks", "juggle"}, Status: 2, Stderr: "juggle"},
		{Args: []string{"stray"}, Status: 2, Stderr: "unexpected arguments"},
	})
}

package main

import (
	"testing"

	"github.com/deervla/deer_vla/nodes/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

// -h prints what the tool does, its synopsis and its flags under the
// names the tools share; bad flags exit 2 with the reason.
func TestUsageAndBadFlags(t *testing.T) {
	clitest.Usage(t, []string{"usage: deer_vla_bench [flags]", "closed-loop benchmark", "-model DIR", "-ort-lib PATH", "Exit status"},
		[]string{"  -lib string"})
	clitest.Check(t, []clitest.Case{
		{Args: []string{"-lib", "x"}, Status: 2, Stderr: "flag provided but not defined: -lib"},
		{Args: []string{"-metric", "manhattan"}, Status: 2, Stderr: "-metric"},
		{Args: []string{"-budgets", "a,b"}, Status: 2, Stderr: "-budgets"},
		{Args: []string{"-tasks", "juggle"}, Status: 2, Stderr: "juggle"},
		{Args: []string{"stray"}, Status: 2, Stderr: "unexpected arguments"},
	})
}

package main

import (
	"strings"
	"testing"
)

// A `go test -json` stream with a pass, a failure with its output, a
// skip with its reason, a failing subtest, a build failure and a package
// that panics outside its tests.
const stream = `{"Action":"start","Package":"example/a"}
{"Action":"run","Package":"example/a","Test":"TestOK"}
{"Action":"output","Package":"example/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"example/a","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"example/a","Test":"TestBad"}
{"Action":"output","Package":"example/a","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"run","Package":"example/a","Test":"TestBad/sub"}
{"Action":"output","Package":"example/a","Test":"TestBad/sub","Output":"    a_test.go:9: got 2, want 3\n"}
{"Action":"fail","Package":"example/a","Test":"TestBad/sub","Elapsed":0}
{"Action":"output","Package":"example/a","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"example/a","Test":"TestBad","Elapsed":0}
{"Action":"output","Package":"example/a","Output":"FAIL\n"}
{"Action":"output","Package":"example/a","Output":"FAIL\texample/a\t0.01s\n"}
{"Action":"fail","Package":"example/a","Elapsed":0.01}
{"Action":"run","Package":"example/ros","Test":"TestIntegration"}
{"Action":"output","Package":"example/ros","Test":"TestIntegration","Output":"=== RUN   TestIntegration\n"}
{"Action":"output","Package":"example/ros","Test":"TestIntegration","Output":"    ros_test.go:15: ROS 2 Humble is not installed: the ROS 2 integration test did not run\n"}
{"Action":"output","Package":"example/ros","Test":"TestIntegration","Output":"--- SKIP: TestIntegration (0.00s)\n"}
{"Action":"skip","Package":"example/ros","Test":"TestIntegration","Elapsed":0}
{"Action":"output","Package":"example/ros","Output":"PASS\n"}
{"Action":"output","Package":"example/ros","Output":"ok  \texample/ros\t0.02s\n"}
{"Action":"pass","Package":"example/ros","Elapsed":0.02}
{"ImportPath":"example/broken","Action":"build-output","Output":"# example/broken\n"}
{"ImportPath":"example/broken","Action":"build-output","Output":"broken/x.go:3:1: syntax error\n"}
{"ImportPath":"example/broken","Action":"build-fail"}
{"Action":"output","Package":"example/broken","Output":"FAIL\texample/broken [build failed]\n"}
{"Action":"fail","Package":"example/broken","Elapsed":0,"FailedBuild":"example/broken"}
{"Action":"output","Package":"example/panics","Output":"panic: boom in TestMain\n"}
{"Action":"output","Package":"example/panics","Output":"FAIL\texample/panics\t0.00s\n"}
{"Action":"fail","Package":"example/panics","Elapsed":0}
{"Action":"output","Package":"example/none","Output":"?   \texample/none\t[no test files]\n"}
{"Action":"skip","Package":"example/none","Elapsed":0}
`

func TestSummary(t *testing.T) {
	var out strings.Builder
	s := newSummary(&out)
	if err := s.read(strings.NewReader("vet: all good\n" + stream)); err != nil {
		t.Fatal(err)
	}
	if !s.finish() {
		t.Error("finish reported no failure")
	}
	text := out.String()
	for _, want := range []string{
		"vet: all good\n",
		"a_test.go:9: got 2, want 3", "--- FAIL: TestBad", "FAIL\texample/a\t0.01s",
		"ok  \texample/ros\t0.02s",
		"broken/x.go:3:1: syntax error", "panic: boom in TestMain",
		"?   \texample/none\t[no test files]",
		"not run (skipped), and why:\n  example/ros TestIntegration: ros_test.go:15: ROS 2 Humble is not installed: the ROS 2 integration test did not run\n",
		"failed:\n  example/a TestBad\n  example/broken (build failed)\n  example/panics (failed outside its tests)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "=== RUN") || strings.Contains(text, "PASS: TestOK") {
		t.Errorf("a passing test's output is shown:\n%s", text)
	}
	if !strings.HasSuffix(text, "\n1 passed, 3 failed, 1 skipped\n") {
		t.Errorf("last line is not the counts:\n%s", text)
	}
}

func TestSummaryAllPassed(t *testing.T) {
	var out strings.Builder
	s := newSummary(&out)
	ok := `{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
`
	if err := s.read(strings.NewReader(ok)); err != nil {
		t.Fatal(err)
	}
	if s.finish() || out.String() != "ok  \tp\t0.1s\n\n1 passed, 0 failed, 0 skipped\n" {
		t.Fatalf("got %q", out.String())
	}
}

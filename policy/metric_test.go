package policy

import (
	"math"
	"testing"
)

func TestMetricDistances(t *testing.T) {
	a := [PoseDims]float32{1, 0, 0, 0, 0, 0}
	b := [PoseDims]float32{0, 0, 0, 0, 0, 0}
	cases := []struct {
		m      Metric
		ga, gb float32
		want   float64
	}{
		{MetricRMS, 0.9, 0.1, math.Sqrt(1.0 / 6)}, // the gripper is ignored
		{MetricL2, 0.9, 0.1, 1},
		{MetricMax, 0.9, 0.1, 1},
		{MetricCosine, 0.9, 0.1, 1},
		{MetricRMSGripper, 0.5, 0.5, math.Sqrt(1.0 / 7)},
		// p 0.25 -> 0.75 flips the decision: 2 * 0.5 = 1, as large as the pose change
		{MetricRMSGripper, 0.75, 0.25, math.Sqrt(2.0 / 7)},
	}
	for _, c := range cases {
		if got := c.m.Distance(&a, &b, c.ga, c.gb); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", c.m, got, c.want)
		}
	}
	same := [PoseDims]float32{0.3, -0.2, 0.1, 0, 0, 0.5}
	if d := MetricRMSGripper.Distance(&same, &same, 0.2, 0.2); d != 0 {
		t.Errorf("rms_gripper of identical actions: %v", d)
	}
}

func TestParseMetricNames(t *testing.T) {
	for _, name := range []string{"rms", "l2", "max", "cosine", "rms_gripper"} {
		m, err := ParseMetric(name)
		if err != nil || m.String() != name {
			t.Errorf("%q: %v %v", name, m, err)
		}
	}
	if _, err := ParseMetric("manhattan"); err == nil {
		t.Error("manhattan accepted")
	}
}

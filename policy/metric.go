package policy

import (
	"fmt"
	"math"
	"strings"
)

// PoseDims is the number of arm pose values in an action; the gripper is the seventh.
const PoseDims = 6

// Metric is how far apart two candidate actions are: over the pose values
// only (the reference code's choice), or with MetricRMSGripper also over the
// gripper decision.
type Metric int

// Metrics. The zero value means "unset" and is treated as MetricRMS.
const (
	MetricRMS    Metric = iota + 1 // sqrt(mean((a-b)^2)), the reference code's choice
	MetricL2                       // sqrt(sum((a-b)^2))
	MetricMax                      // max |a-b|
	MetricCosine                   // 1 - cos(a, b); 0 when both are zero, 1 when one is
	// MetricRMSGripper is the RMS over the 6 pose values and the gripper
	// command 2p-1 (p the probability of open): a gripper decision that
	// flips between exits (p from 0.25 to 0.75) counts like a full-scale
	// change of one pose value. The pose-only metrics cannot see the
	// moments where only the gripper decision depends on depth (when to
	// release a block over its bin), and exit there too early.
	MetricRMSGripper
)

var metricNames = [...]string{MetricRMS: "rms", MetricL2: "l2", MetricMax: "max", MetricCosine: "cosine", MetricRMSGripper: "rms_gripper"}

// MetricNames lists the metrics' names, for help texts and errors; it
// follows metricNames, whose index 0 (unset) has no name.
var MetricNames = strings.Join(metricNames[1:], ", ")

func (m Metric) String() string {
	if m > 0 && int(m) < len(metricNames) {
		return metricNames[m]
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// ParseMetric maps a name of [MetricNames] to a Metric.
func ParseMetric(s string) (Metric, error) {
	for m, name := range metricNames {
		if name != "" && name == s {
			return Metric(m), nil
		}
	}
	return 0, fmt.Errorf("policy: metric %q is not one of %s", s, MetricNames)
}

// Distance compares two candidate actions, in float64: their pose values a
// and b and, for MetricRMSGripper only, their gripper probabilities ga, gb.
func (m Metric) Distance(a, b *[PoseDims]float32, ga, gb float32) float64 {
	switch m {
	case MetricRMSGripper:
		g := 2 * (float64(ga) - float64(gb))
		return math.Sqrt((sumSq(a, b) + g*g) / (PoseDims + 1))
	case MetricL2:
		return math.Sqrt(sumSq(a, b))
	case MetricMax:
		var d float64
		for i := range a {
			d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		}
		return d
	case MetricCosine:
		var dot, na, nb float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			dot, na, nb = dot+x*y, na+x*x, nb+y*y
		}
		switch {
		case na == 0 && nb == 0:
			return 0
		case na == 0 || nb == 0:
			return 1
		}
		return 1 - dot/(math.Sqrt(na)*math.Sqrt(nb))
	default:
		return math.Sqrt(sumSq(a, b) / PoseDims)
	}
}

func sumSq(a, b *[PoseDims]float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

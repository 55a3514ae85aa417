package fleet

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/replay"
)

// BagDistances are one bag's calibration steps: every exit's distance at
// every step, measured at full depth.
type BagDistances struct {
	Bag    string `json:"bag"`
	Model  string `json:"model"`
	Metric string `json:"metric"`
	// Values[exit-1][step], as policy.Calibration.
	Values [][]float64 `json:"values"`
	Error  string      `json:"error,omitempty"`
}

// calibrateFn runs bags at full depth and emits their distances. Like
// replayFn it opens the engine once per instance.
type calibrateFn struct {
	Settings Settings
	w        worker
}

func (f *calibrateFn) Setup()    { f.w.open(f.Settings, control.FullDepth) }
func (f *calibrateFn) Teardown() { f.w.close() }

func (f *calibrateFn) ProcessElement(ctx context.Context, shard int, jobs func(*Job) bool, emit func(BagDistances)) {
	var j Job
	for jobs(&j) {
		emit(f.calibrate(ctx, j.Bag))
	}
}

func (f *calibrateFn) calibrate(ctx context.Context, bag string) (d BagDistances) {
	d.Bag = bag
	defer func() {
		if r := recover(); r != nil {
			d = BagDistances{Bag: bag, Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	if f.w.err != nil {
		d.Error = f.w.err.Error()
		return d
	}
	metric, _ := policy.ParseMetric(f.w.params.Str(control.ParamMetric))
	cal := &policy.Calibration{Model: f.w.eng.Manifest().Name, Metric: metric}
	d.Model, d.Metric = cal.Model, metric.String()
	local, cleanup, err := stage(ctx, bag)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	defer cleanup()
	node, err := control.NewNode(f.w.eng, f.w.params)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	f.w.eng.Restart()
	if _, err := replay.Calibrate(replay.Config{Bag: local, Topics: f.Settings.Topics, Params: f.w.params}, node, cal); err != nil {
		d.Error = err.Error()
		return d
	}
	if cal.Steps() == 0 {
		d.Error = "no step ran"
		return d
	}
	d.Values = cal.Values
	return d
}

// calibrationAcc holds every bag's distances until the end.
type calibrationAcc struct {
	Bags []BagDistances `json:"bags"`
}

// calibrationFn combines the bags' distances into one calibration file,
// bags in path order: the file is the one deer_vla_calibrate writes for
// the same bags given in that order, whichever order workers finish in.
type calibrationFn struct{}

func (calibrationFn) CreateAccumulator() calibrationAcc { return calibrationAcc{} }

func (calibrationFn) AddInput(a calibrationAcc, d BagDistances) calibrationAcc {
	a.Bags = append(a.Bags, d)
	return a
}

func (calibrationFn) MergeAccumulators(a, b calibrationAcc) calibrationAcc {
	a.Bags = append(a.Bags, b.Bags...)
	return a
}

// ExtractOutput puts the bags that replayed, in path order, into one
// calibration; the bags that failed are listed with their reasons.
func (calibrationFn) ExtractOutput(a calibrationAcc) CalibrationResult {
	sort.Slice(a.Bags, func(i, j int) bool { return a.Bags[i].Bag < a.Bags[j].Bag })
	var res CalibrationResult
	var cal *policy.Calibration
	for _, d := range a.Bags {
		if d.Error != "" {
			res.Failed = append(res.Failed, d.Bag+": "+reasonOf(d.Error))
			continue
		}
		if cal == nil {
			metric, err := policy.ParseMetric(d.Metric)
			if err != nil {
				res.Failed = append(res.Failed, d.Bag+": "+err.Error())
				continue
			}
			cal = &policy.Calibration{Model: d.Model, Metric: metric}
		}
		for s := range d.Values[0] {
			step := make([]float64, len(d.Values))
			for i := range d.Values {
				step[i] = d.Values[i][s]
			}
			if err := cal.Append(step); err != nil {
				res.Failed = append(res.Failed, d.Bag+": "+err.Error())
				break
			}
		}
		res.Bags++
	}
	if cal != nil {
		var buf bytes.Buffer
		cal.Write(&buf)
		res.CSV, res.Steps = buf.String(), cal.Steps()
	}
	return res
}

// CalibrationResult is the fleet's calibration.
type CalibrationResult struct {
	CSV    string   `json:"csv"` // the calibration file; empty when no bag replayed
	Bags   int      `json:"bags"`
	Steps  int      `json:"steps"`
	Failed []string `json:"failed,omitempty"` // bags left out, with their reasons
}

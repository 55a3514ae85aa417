package control

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/deervla/deer_vla/policy"
)

// Parameter names. Each is defined here once; launch files, params/ YAML
// and the README use the same strings (a test checks them).
const (
	ParamModelPath      = "model.path"
	ParamCalibration    = "model.calibration"
	ParamLibrary        = "runtime.library"
	ParamProvider       = "runtime.provider"
	ParamDeviceID       = "runtime.device_id"
	ParamIntraOpThreads = "runtime.intra_op_threads"
	ParamAllowSpinning  = "runtime.allow_spinning"
	ParamAvgGFLOPs      = "budget.avg_gflops"
	ParamPeakGFLOPs     = "budget.peak_gflops"
	ParamMemoryMB       = "budget.memory_mb"
	ParamBudgetWindow   = "budget.window"
	ParamThresholds     = "exit.thresholds"
	ParamMetric         = "exit.metric"
	ParamHoldSteps      = "exit.hold_steps"
	ParamAverageLastTwo = "exit.average_last_two"
	ParamRateHz         = "control.rate_hz"
	ParamMaxImageAgeMs  = "input.max_age_ms"
	ParamActionClamp    = "action.clamp"
	ParamUseSimTime     = "use_sim_time"
	ParamDiagnosticsHz  = "diagnostics.rate_hz"
	ParamStatsWindow    = "diagnostics.window"

	ParamDeadlineMs       = "control.deadline_ms"
	ParamDeadlineFallback = "control.deadline_fallback"
	ParamNoActionWarnS    = "diagnostics.no_action_warn_s"
)

// Range is an inclusive numeric range; Step 0 means any value.
type Range struct{ From, To, Step float64 }

// Descriptor describes one parameter, as rcl_interfaces/ParameterDescriptor does.
type Descriptor struct {
	Name        string
	Kind        Kind
	Default     Value
	Description string
	Constraints string // additional_constraints: legal values in words
	ReadOnly    bool   // fixed at start-up (from --params-file or -p)
	Range       *Range // for integers and doubles
}

// Descriptors lists every parameter of the node, in the order --help and
// `ros2 param list` show them.
var Descriptors = []Descriptor{
	{Name: ParamModelPath, Kind: KindString, Default: String(""), ReadOnly: true,
		Description: "model folder holding manifest.yaml (empty: the package's default model; the node then shows the folder it opened)"},
	{Name: ParamCalibration, Kind: KindString, Default: String(""), ReadOnly: true,
		Description: "calibration CSV for the average budget, or a folder: every calibration in it, calibration.csv and calibration_<metric>.csv, one per exit metric (empty: the model folder; the node then shows the folder it read)"},
	{Name: ParamLibrary, Kind: KindString, Default: String(""), ReadOnly: true,
		Description: "path of libonnxruntime.so (empty: $ONNXRUNTIME_SHARED_LIBRARY_PATH, then the copy fetched by scripts/fetch_onnxruntime.sh; the node then shows the one it loaded)"},
	{Name: ParamProvider, Kind: KindString, Default: String("cpu"), ReadOnly: true,
		Description: "ONNX Runtime execution provider", Constraints: "one of cpu, cuda, tensorrt"},
	{Name: ParamDeviceID, Kind: KindInt, Default: Int(0), ReadOnly: true, Range: &Range{0, 64, 1},
		Description: "accelerator index for the cuda and tensorrt providers"},
	{Name: ParamIntraOpThreads, Kind: KindInt, Default: Int(1), ReadOnly: true, Range: &Range{0, 256, 1},
		Description: "threads one model stage may use (0: ONNX Runtime's choice, one per core); 1 was fastest on a busy computer (README, Threads)"},
	{Name: ParamAllowSpinning, Kind: KindBool, Default: Bool(false), ReadOnly: true,
		Description: "let ONNX Runtime's worker threads busy-wait for work instead of sleeping (only with more than one thread; slows steps when other processes share the cores)"},
	{Name: ParamAvgGFLOPs, Kind: KindDouble, Default: Double(0), Range: &Range{0, 1e6, 0},
		Description: "average decoder GFLOPs per action; thresholds are solved from the calibration (0: unset, no early exit unless exit.thresholds is set)"},
	{Name: ParamPeakGFLOPs, Kind: KindDouble, Default: Double(0), Range: &Range{0, 1e6, 0},
		Description: "most decoder GFLOPs in one action; deeper exits are not run (0: unset)"},
	{Name: ParamMemoryMB, Kind: KindDouble, Default: Double(0), Range: &Range{0, 1e7, 0},
		Description: "most MB (1e6 bytes) of weights loaded; deeper blocks are unloaded (0: unset)"},
	{Name: ParamBudgetWindow, Kind: KindInt, Default: Int(500), Range: &Range{0, policy.MaxBudgetWindow, 1},
		Description: "steps over which the realised average is held to budget.avg_gflops: thresholds are re-solved for a corrected budget when the robot's own steps spend more or less than the calibration's (0: the calibration's thresholds as solved)"},
	{Name: ParamThresholds, Kind: KindDoubleArray, Default: Doubles(nil),
		Description: "explicit per-exit thresholds, overriding budget.avg_gflops (empty: use the budget)",
		Constraints: "empty, or one finite value per exit of the model; negative means never exit there"},
	{Name: ParamMetric, Kind: KindString, Default: String("cosine"),
		Description: "distance between successive exits' actions, over the 6 pose values (rms_gripper: and the gripper command)", Constraints: "one of " + policy.MetricNames},
	{Name: ParamHoldSteps, Kind: KindInt, Default: Int(0), Range: &Range{0, policy.MaxHoldSteps, 1},
		Description: "reuse a decided exit for this many following steps"},
	{Name: ParamAverageLastTwo, Kind: KindBool, Default: Bool(false),
		Description: "execute the mean of the chosen exit's action and the previous exit's"},
	{Name: ParamRateHz, Kind: KindDouble, Default: Double(0), Range: &Range{0, 1000, 0},
		Description: "control rate; a step runs only on a new static image (0: on every new static image)"},
	{Name: ParamDeadlineMs, Kind: KindDouble, Default: Double(0), Range: &Range{0, 60000, 0},
		Description: "time a step may take from its image's decoding to its action; past it the step ends at the deepest exit already evaluated, flagged deadline_cut on ~/step_stats (checked between stages; 0: no deadline)"},
	{Name: ParamDeadlineFallback, Kind: KindString, Default: String("none"),
		Description: "what to publish when control.deadline_ms passes before the first exit: none (nothing), stop (zero pose deltas, the last gripper command) or hold (the last action again); stop and hold need an action of the same episode, else nothing is published", Constraints: "one of none, stop, hold"},
	{Name: ParamMaxImageAgeMs, Kind: KindDouble, Default: Double(500), Range: &Range{0, 600000, 0},
		Description: "skip a step whose static image stamp is older than this (ROS time, so sim time under use_sim_time; 0: no check)"},
	{Name: ParamActionClamp, Kind: KindDouble, Default: Double(1), Range: &Range{0, 100, 0},
		Description: "clamp each published pose delta to [-clamp, clamp] (0: no clamp)"},
	{Name: ParamDiagnosticsHz, Kind: KindDouble, Default: Double(1), Range: &Range{0, 100, 0},
		Description: "rate of /diagnostics (0: off)"},
	{Name: ParamNoActionWarnS, Kind: KindDouble, Default: Double(3), Range: &Range{0, 3600, 0},
		Description: "/diagnostics warns when messages arrive but no action has been published for this long, with the reason (0: never)"},
	{Name: ParamStatsWindow, Kind: KindInt, Default: Int(200), Range: &Range{1, 100000, 1}, ReadOnly: true,
		Description: "steps in the sliding window for latency percentiles, the exit histogram and budget adherence"},
	{Name: ParamUseSimTime, Kind: KindBool, Default: Bool(false),
		Description: "use /clock (ros2 bag play --clock) for ROS time, as rclcpp nodes do; it can change live"},
}

// Describe returns the descriptor of a parameter.
func Describe(name string) (Descriptor, bool) {
	i := slices.IndexFunc(Descriptors, func(d Descriptor) bool { return d.Name == name })
	if i < 0 {
		return Descriptor{}, false
	}
	return Descriptors[i], true
}

// Params holds every parameter's value. The zero value is not valid; use
// DefaultParams.
type Params struct {
	values map[string]Value
}

// DefaultParams returns the defaults of every parameter.
func DefaultParams() Params {
	p := Params{values: map[string]Value{}}
	for _, d := range Descriptors {
		p.values[d.Name] = d.Default
	}
	return p
}

// Get returns a parameter's value.
func (p Params) Get(name string) (Value, bool) {
	v, ok := p.values[name]
	return v, ok
}

func (p Params) clone() Params {
	q := Params{values: make(map[string]Value, len(p.values))}
	for k, v := range p.values {
		q.values[k] = v
	}
	return q
}

// Double, Int, Str, Bool and DoubleArray read typed values; they return
// the zero value for an unknown name.
func (p Params) Double(name string) float64        { return p.values[name].Double }
func (p Params) Int(name string) int64             { return p.values[name].Int }
func (p Params) Str(name string) string            { return p.values[name].String }
func (p Params) Bool(name string) bool             { return p.values[name].Bool }
func (p Params) DoubleArray(name string) []float64 { return p.values[name].Doubles }

// ParamError is a rejected parameter value, with the reason.
type ParamError struct {
	Name   string
	Value  Value
	Reason string
}

func (e *ParamError) Error() string {
	if e.Value.Kind == 0 && strings.Contains(e.Name, ", ") {
		return fmt.Sprintf("parameters %s rejected: %s", e.Name, e.Reason)
	}
	if e.Value.Kind == 0 {
		return fmt.Sprintf("parameter %s rejected: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("parameter %s = %s rejected: %s", e.Name, e.Value.Format(), e.Reason)
}

// With returns p with the batch of changes applied, after checking each
// against its descriptor (kind, range, legal values, read-only unless
// startup). It does not check what only the engine can (exit count,
// infeasible budgets): see Settings and Node.SetParams.
func (p Params) With(changes map[string]Value, startup bool) (Params, error) {
	q := p.clone()
	var errs []error
	for _, name := range sortedKeys(changes) {
		v, err := check(name, changes[name], p.values[name], startup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		q.values[name] = v
	}
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	return q, nil
}

// check validates one change; cur is the value in force. A read-only
// parameter set to the value it has is accepted, so that `ros2 param load`
// of a `ros2 param dump` succeeds.
func check(name string, v, cur Value, startup bool) (Value, error) {
	d, ok := Describe(name)
	if !ok {
		return v, &ParamError{name, v, "this node has no such parameter"}
	}
	cv, err := coerce(v, d.Kind)
	if err != nil {
		return v, &ParamError{name, v, err.Error()}
	}
	v = cv
	if d.ReadOnly && !startup && v.Format() != cur.Format() {
		return v, &ParamError{name, v, "read-only: set it at start-up with --params-file or -p"}
	}
	if d.Range != nil {
		x := v.Double
		if v.Kind == KindInt {
			x = float64(v.Int)
		}
		if math.IsNaN(x) || x < d.Range.From || x > d.Range.To {
			return v, &ParamError{name, v, fmt.Sprintf("out of range: must be from %s to %s", formatNumber(d.Range.From), formatNumber(d.Range.To))}
		}
	}
	switch name {
	case ParamMetric:
		if _, err := policy.ParseMetric(v.String); err != nil {
			return v, &ParamError{name, v, "want one of " + policy.MetricNames}
		}
	case ParamDeadlineFallback:
		if _, err := ParseFallback(v.String); err != nil {
			return v, &ParamError{name, v, err.Error()}
		}
	case ParamProvider:
		if !slices.Contains([]string{"cpu", "cuda", "tensorrt"}, v.String) {
			return v, &ParamError{name, v, "want one of cpu, cuda, tensorrt"}
		}
	case ParamThresholds:
		if slices.ContainsFunc(v.Doubles, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }) {
			return v, &ParamError{name, v, "thresholds must be finite"}
		}
		v.Doubles = slices.Clone(v.Doubles)
	}
	return v, nil
}

// Settings converts the live parameters into engine settings.
func (p Params) Settings() policy.Settings {
	metric, _ := policy.ParseMetric(p.Str(ParamMetric))
	s := policy.Settings{
		Budget: policy.Budget{
			AvgGFLOPs:  p.Double(ParamAvgGFLOPs),
			PeakGFLOPs: p.Double(ParamPeakGFLOPs),
			MemoryMB:   p.Double(ParamMemoryMB),
		},
		Metric:         metric,
		HoldSteps:      int(p.Int(ParamHoldSteps)),
		AverageLastTwo: p.Bool(ParamAverageLastTwo),
		BudgetWindow:   int(p.Int(ParamBudgetWindow)),
	}
	if th := p.DoubleArray(ParamThresholds); len(th) > 0 {
		s.Thresholds = slices.Clone(th)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Help renders the parameter table for --help and the README, in the
// image_proc template: name (type, default): meaning. Range.
func Help() string {
	var b strings.Builder
	for _, d := range Descriptors {
		fmt.Fprintf(&b, "  %s (%s, default %s)", d.Name, d.Kind, d.Default.Format())
		if d.ReadOnly {
			b.WriteString(", read-only")
		}
		fmt.Fprintf(&b, ": %s.", d.Description)
		if d.Range != nil {
			fmt.Fprintf(&b, " Range: %g to %g.", d.Range.From, d.Range.To)
		}
		if d.Constraints != "" {
			fmt.Fprintf(&b, " %s.", strings.ToUpper(d.Constraints[:1])+d.Constraints[1:])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

package policy

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CalibrationFile is the calibration's file name inside a model folder.
// Calibrations for further exit metrics sit beside it as
// calibration_<metric>.csv (see [ReadModelCalibrations]).
const CalibrationFile = "calibration.csv"

// CalibrationFileFor is the file name, in a model folder, of a calibration
// measured with metric m: CalibrationFile for rms (the engine's default
// metric), calibration_<metric>.csv for the others.
func CalibrationFileFor(m Metric) string {
	if m == MetricRMS {
		return CalibrationFile
	}
	return "calibration_" + m.String() + ".csv"
}

// ReadModelCalibrations reads a model folder's calibrations:
// calibration.csv and every calibration_*.csv, each measured with the metric
// its own header names (the file names are a convention, not read). A folder
// without any gives none and no error. Two files of the same metric are an
// error: which one a budget would use would be unclear.
func ReadModelCalibrations(dir string) ([]*Calibration, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "calibration_*.csv"))
	if err != nil {
		return nil, err
	}
	first := filepath.Join(dir, CalibrationFile)
	if _, err := os.Stat(first); err == nil {
		paths = append([]string{first}, paths...)
	}
	var cals []*Calibration
	from := map[Metric]string{}
	for _, path := range paths {
		c, err := ReadCalibration(path)
		if err != nil {
			return nil, err
		}
		if prev, dup := from[c.Metric]; dup {
			return nil, fmt.Errorf("policy: calibrations %s and %s are both measured with metric %s", prev, path, c.Metric)
		}
		from[c.Metric] = path
		cals = append(cals, c)
	}
	return cals, nil
}

const calibrationHeader = "# deer-vla calibration v1"

// Calibration holds, for each demonstration step, the distance each exit's
// candidate action had from the previous exit's, measured at full depth.
// Thresholds for an average-GFLOPs budget are solved from it.
type Calibration struct {
	Model  string      // manifest name it was made with
	Metric Metric      // metric the distances were measured with
	Values [][]float64 // Values[exit-1][step]
	File   string      // the file it was read from; "" when made in memory
}

// MaxCalibrationSteps bounds the steps a calibration file may hold (a
// million steps of 16 exits is 128 MB of distances).
const MaxCalibrationSteps = 1 << 20

// Steps is the number of calibration steps.
func (c *Calibration) Steps() int {
	if len(c.Values) == 0 {
		return 0
	}
	return len(c.Values[0])
}

// Append adds one step's distances, exit 1 first.
func (c *Calibration) Append(distances []float64) error {
	if c.Values == nil {
		c.Values = make([][]float64, len(distances))
	}
	if len(distances) != len(c.Values) {
		return fmt.Errorf("policy: calibration step has %d distances, want %d", len(distances), len(c.Values))
	}
	for i, d := range distances {
		c.Values[i] = append(c.Values[i], d)
	}
	return nil
}

// Write writes the calibration as CSV: a commented header, one column per exit.
func (c *Calibration) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n# model: %s\n# metric: %s\n", calibrationHeader, c.Model, c.Metric)
	for i := range c.Values {
		if i > 0 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, "exit_%d", i+1)
	}
	bw.WriteByte('\n')
	var buf []byte
	for s := 0; s < c.Steps(); s++ {
		for i := range c.Values {
			if i > 0 {
				bw.WriteByte(',')
			}
			buf = strconv.AppendFloat(buf[:0], c.Values[i][s], 'g', -1, 64)
			bw.Write(buf)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteCalibration writes c to path, replacing it atomically.
func WriteCalibration(path string, c *Calibration) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("policy: calibration: %w", err)
	}
	if err := c.Write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("policy: calibration %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("policy: calibration %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// ReadCalibration reads a calibration CSV written by [WriteCalibration].
func ReadCalibration(path string) (*Calibration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: calibration: %w", err)
	}
	defer f.Close()
	c, err := parseCalibration(f)
	if err != nil {
		return nil, fmt.Errorf("policy: calibration %s: %w", path, err)
	}
	c.File = path
	return c, nil
}

func parseCalibration(r io.Reader) (*Calibration, error) {
	c := &Calibration{}
	sc := bufio.NewScanner(r)
	line := 0
	cols := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "":
			continue
		case line == 1 && text != calibrationHeader:
			return nil, fmt.Errorf("line 1: want %q", calibrationHeader)
		case strings.HasPrefix(text, "#"):
			key, val, _ := strings.Cut(strings.TrimSpace(text[1:]), ":")
			val = strings.TrimSpace(val)
			switch strings.TrimSpace(key) {
			case "model":
				c.Model = val
			case "metric":
				m, err := ParseMetric(val)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", line, err)
				}
				c.Metric = m
			}
			continue
		case cols == 0:
			cols = strings.Count(text, ",") + 1
			if cols > MaxExits {
				return nil, fmt.Errorf("line %d: %d columns, a model has at most %d exits", line, cols, MaxExits)
			}
			c.Values = make([][]float64, cols)
			continue
		case c.Steps() == MaxCalibrationSteps:
			return nil, fmt.Errorf("line %d: more than %d steps", line, MaxCalibrationSteps)
		}
		fields := strings.Split(text, ",")
		if len(fields) != cols {
			return nil, fmt.Errorf("line %d: %d values, want %d", line, len(fields), cols)
		}
		for i, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d: column %d: %q is not a finite distance >= 0", line, i+1, f)
			}
			c.Values[i] = append(c.Values[i], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if c.Metric == 0 {
		return nil, fmt.Errorf("no '# metric:' line")
	}
	if c.Model == "" {
		return nil, fmt.Errorf("no '# model:' line naming the model it was measured with")
	}
	if c.Steps() == 0 {
		return nil, fmt.Errorf("no steps")
	}
	return c, nil
}

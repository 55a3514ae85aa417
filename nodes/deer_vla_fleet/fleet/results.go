package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// readFile reads out/name through Beam's file system for out's scheme.
func readFile(ctx context.Context, out, name string) ([]byte, error) {
	p := strings.TrimSuffix(out, "/") + "/" + name
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	return filesystem.Read(ctx, fs, p)
}

// ReadRows reads a run's rows, sorted by bag and sweep point.
func ReadRows(ctx context.Context, out string) ([]Row, error) {
	data, err := readFile(ctx, out, RowsFile)
	if err != nil {
		return nil, err
	}
	var rows []Row
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("fleet: %s: %w", RowsFile, err)
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Point != rows[j].Point {
			return rows[i].Point < rows[j].Point
		}
		return rows[i].Bag < rows[j].Bag
	})
	return rows, sc.Err()
}

// ReadSummaries reads a run's summaries, sweep point 0 first.
func ReadSummaries(ctx context.Context, out string) ([]Summary, error) {
	data, err := readFile(ctx, out, SummaryFile)
	if err != nil {
		return nil, err
	}
	var sums []Summary
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var s Summary
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return nil, fmt.Errorf("fleet: %s: %w", SummaryFile, err)
		}
		sums = append(sums, s)
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].Point < sums[j].Point })
	return sums, nil
}

// ReadCalibration reads a calibration run's result.
func ReadCalibration(ctx context.Context, out string) (CalibrationResult, error) {
	var c CalibrationResult
	data, err := readFile(ctx, out, CalibrationFile)
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(data, &c)
	return c, err
}

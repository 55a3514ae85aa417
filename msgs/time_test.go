package msgs

import (
	"math"
	"testing"
	"time"
)

func TestTimeNanos(t *testing.T) {
	tests := []struct {
		name  string
		nanos int64
		want  Time
	}{
		{"zero", 0, Time{}},
		{"one nanosecond", 1, Time{Sec: 0, Nanosec: 1}},
		{"whole seconds", 3e9, Time{Sec: 3}},
		{"stamp", 1700000000123456789, Time{Sec: 1700000000, Nanosec: 123456789}},
		{"minus one nanosecond", -1, Time{Sec: -1, Nanosec: 999999999}},
		{"minus 1.5 s", -1500000000, Time{Sec: -2, Nanosec: 500000000}},
		{"int32 max seconds", math.MaxInt32 * 1e9, Time{Sec: math.MaxInt32}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TimeFromNanos(tc.nanos); got != tc.want {
				t.Fatalf("TimeFromNanos(%d) = %+v, want %+v", tc.nanos, got, tc.want)
			}
			if got := tc.want.Nanos(); got != tc.nanos {
				t.Fatalf("%+v.Nanos() = %d, want %d", tc.want, got, tc.nanos)
			}
		})
	}
}

func TestTimeConversions(t *testing.T) {
	tm := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	rt := TimeFromTime(tm)
	if got := rt.Time(); !got.Equal(tm) {
		t.Fatalf("round trip through Time gave %v, want %v", got, tm)
	}
}

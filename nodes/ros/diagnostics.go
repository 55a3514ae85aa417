//go:build ros2

package ros

import (
	"context"
	"fmt"
	"time"

	"github.com/tiiuae/rclgo/pkg/rclgo"

	builtin "github.com/deervla/deer_vla/msgs/rosgen/builtin_interfaces/msg"
	diag "github.com/deervla/deer_vla/msgs/rosgen/diagnostic_msgs/msg"
	"github.com/deervla/deer_vla/nodes/control"
)

// diagnosticsPublisher publishes /diagnostics at diagnostics.rate_hz with
// latency percentiles, the exit histogram and budget adherence.
type diagnosticsPublisher struct {
	pub *diag.DiagnosticArrayPublisher
}

func newDiagnosticsPublisher(n *rclgo.Node) (*diagnosticsPublisher, error) {
	pub, err := diag.NewDiagnosticArrayPublisher(n, TopicDiagnostics, nil)
	if err != nil {
		return nil, fmt.Errorf("ros: publisher %s: %w", TopicDiagnostics, err)
	}
	return &diagnosticsPublisher{pub: pub}, nil
}

func (d *diagnosticsPublisher) run(ctx context.Context, g *glue) {
	for {
		hz := g.core.Params().Double(control.ParamDiagnosticsHz)
		wait := time.Second
		if hz > 0 {
			wait = time.Duration(float64(time.Second) / hz)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if hz <= 0 {
			continue
		}
		if err := d.publish(g); err != nil {
			g.warnEvery("diagnostics", "publish %s: %v", TopicDiagnostics, err)
		}
	}
}

func (d *diagnosticsPublisher) publish(g *glue) error {
	s := g.core.Diagnostics()
	now := g.clock.Now()
	arr := diag.NewDiagnosticArray()
	arr.Header.Stamp = builtin.Time{Sec: int32(now / 1e9), Nanosec: uint32(now % 1e9)}
	st := diag.DiagnosticStatus{Level: s.Level, Name: g.node.Name() + ": " + s.Name, Message: s.Message, HardwareId: s.HardwareID}
	for _, kv := range s.Values {
		st.Values = append(st.Values, diag.KeyValue{Key: kv.Key, Value: kv.Value})
	}
	arr.Status = []diag.DiagnosticStatus{st}
	return d.pub.Publish(arr)
}

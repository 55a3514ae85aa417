//go:build ros2

package ros

import (
	"fmt"

	"github.com/tiiuae/rclgo/pkg/rclgo"
	"github.com/tiiuae/rclgo/pkg/rclgo/types"

	stdsrv "github.com/deervla/deer_vla/msgs/rosgen/std_srvs/srv"
)

// serveReset offers ~/reset: forget the episode (recurrent state, hold),
// as a new instruction does.
func (g *glue) serveReset() error {
	_, err := g.node.NewService(ServiceReset, stdsrv.TriggerTypeSupport, nil, func(_ *rclgo.ServiceInfo, _ types.Message, send rclgo.ServiceResponseSender) {
		g.loop.Reset()
		g.log.Info("episode reset by ", ServiceReset)
		resp := stdsrv.NewTrigger_Response()
		resp.Success, resp.Message = true, "episode reset: recurrent state cleared"
		if err := send.SendResponse(resp); err != nil {
			g.warnEvery("service", "reset reply: %v", err)
		}
	})
	if err != nil {
		return fmt.Errorf("ros: service %s: %w", ServiceReset, err)
	}
	return nil
}

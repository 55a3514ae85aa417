package replay

import (
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
)

// Calibrate replays cfg.Bag through node and appends every step's exit
// distances, exit 1 first, to cal. The node must run at full depth
// (control.FullDepth), so that every exit is evaluated at every step.
func Calibrate(cfg Config, node *control.Node, cal *policy.Calibration) (*Report, error) {
	var appendErr error
	rep, err := Run(cfg, node, func(o *control.Output) {
		if appendErr == nil {
			appendErr = cal.Append(o.Result.Distances[:o.Result.NumDistances])
		}
	})
	if err != nil {
		return rep, err
	}
	return rep, appendErr
}

//go:build ros2

package ros

import (
	"fmt"

	"github.com/tiiuae/rclgo/pkg/rclgo"
	"github.com/tiiuae/rclgo/pkg/rclgo/types"

	builtin "github.com/deervla/deer_vla/msgs/rosgen/builtin_interfaces/msg"
	rclmsg "github.com/deervla/deer_vla/msgs/rosgen/rcl_interfaces/msg"
	rclsrv "github.com/deervla/deer_vla/msgs/rosgen/rcl_interfaces/srv"
	"github.com/deervla/deer_vla/nodes/control"
)

// serveParameters implements the rcl_interfaces parameter services that
// rclcpp nodes offer, so the standard `ros2 param` CLI works; the logic
// lives in control.Node (tested without ROS).
func (g *glue) serveParameters() error {
	c := g.core
	services := []struct {
		name    string
		ts      types.ServiceTypeSupport
		handler func(types.Message) types.Message
	}{
		{"~/list_parameters", rclsrv.ListParametersTypeSupport, func(m types.Message) types.Message {
			req := m.(*rclsrv.ListParameters_Request)
			resp := rclsrv.NewListParameters_Response()
			resp.Result.Names, resp.Result.Prefixes = c.ListParameters(req.Prefixes, req.Depth)
			return resp
		}},
		{"~/get_parameters", rclsrv.GetParametersTypeSupport, func(m types.Message) types.Message {
			resp := rclsrv.NewGetParameters_Response()
			for _, v := range c.GetParameters(m.(*rclsrv.GetParameters_Request).Names) {
				resp.Values = append(resp.Values, toROS(v))
			}
			return resp
		}},
		{"~/get_parameter_types", rclsrv.GetParameterTypesTypeSupport, func(m types.Message) types.Message {
			resp := rclsrv.NewGetParameterTypes_Response()
			for _, k := range c.GetParameterTypes(m.(*rclsrv.GetParameterTypes_Request).Names) {
				resp.Types = append(resp.Types, uint8(k))
			}
			return resp
		}},
		{"~/describe_parameters", rclsrv.DescribeParametersTypeSupport, func(m types.Message) types.Message {
			resp := rclsrv.NewDescribeParameters_Response()
			for _, d := range c.DescribeParameters(m.(*rclsrv.DescribeParameters_Request).Names) {
				resp.Descriptors = append(resp.Descriptors, describe(d))
			}
			return resp
		}},
		{"~/set_parameters", rclsrv.SetParametersTypeSupport, func(m types.Message) types.Message {
			changes := fromROSParams(m.(*rclsrv.SetParameters_Request).Parameters)
			resp := rclsrv.NewSetParameters_Response()
			for i, r := range c.SetParametersEach(changes) {
				resp.Results = append(resp.Results, rclmsg.SetParametersResult{Successful: r.Successful, Reason: r.Reason})
				g.afterSet(changes[i:i+1], r)
			}
			return resp
		}},
		{"~/set_parameters_atomically", rclsrv.SetParametersAtomicallyTypeSupport, func(m types.Message) types.Message {
			changes := fromROSParams(m.(*rclsrv.SetParametersAtomically_Request).Parameters)
			r := c.SetParametersAtomically(changes)
			g.afterSet(changes, r)
			resp := rclsrv.NewSetParametersAtomically_Response()
			resp.Result = rclmsg.SetParametersResult{Successful: r.Successful, Reason: r.Reason}
			return resp
		}},
	}
	for _, s := range services {
		handler := s.handler
		_, err := g.node.NewService(s.name, s.ts, nil, func(_ *rclgo.ServiceInfo, req types.Message, send rclgo.ServiceResponseSender) {
			if err := send.SendResponse(handler(req)); err != nil {
				g.warnEvery("service", "parameter service reply: %v", err)
			}
		})
		if err != nil {
			return fmt.Errorf("ros: service %s: %w", s.name, err)
		}
	}
	return nil
}

// afterSet logs the outcome, switches the clock when use_sim_time changed,
// announces accepted changes on /parameter_events, and wakes the control
// loop (the rate may have changed).
func (g *glue) afterSet(changes []control.NamedValue, r control.SetResult) {
	if !r.Successful {
		g.log.Warnf("parameter change rejected: %s", r.Reason)
		return
	}
	p := g.core.Params()
	for _, c := range changes {
		v, _ := p.Get(c.Name)
		g.log.Infof("parameter %s = %s", c.Name, v.Format())
	}
	if sim := p.Bool(control.ParamUseSimTime); sim != g.clock.Sim() {
		g.clock.SetSim(sim)
		if sim {
			g.log.Infof("ROS time now follows %s", TopicClock)
		} else {
			g.log.Infof("ROS time is now wall time")
		}
	}
	g.events.publishChanged(p, changes)
	g.poke()
}

// warnIgnored says which overrides of the command line and params files
// the node skipped because it declares no such parameter (rclcpp skips
// them too, silently): a typo there would otherwise go unnoticed.
func (g *glue) warnIgnored(ignored []string) {
	for _, name := range ignored {
		g.log.Warnf("ignoring parameter override %s: this node declares no such parameter", name)
	}
}

// toROS and fromROS map every field: a value sets only the field of its
// kind, the others stay zero, as rcl_interfaces expects.
func toROS(v control.Value) rclmsg.ParameterValue {
	return rclmsg.ParameterValue{Type: uint8(v.Kind), BoolValue: v.Bool, IntegerValue: v.Int, DoubleValue: v.Double,
		StringValue: v.String, ByteArrayValue: v.Bytes, BoolArrayValue: v.Bools, IntegerArrayValue: v.Ints,
		DoubleArrayValue: v.Doubles, StringArrayValue: v.Strings}
}

// fromROS keeps kinds the node has no parameter of (byte, bool and string
// arrays): the kind check refuses them with a reason unless they are empty,
// which is how `ros2 param set x "[]"` sends an empty array of any type.
func fromROS(p rclmsg.ParameterValue) control.Value {
	return control.Value{Kind: control.Kind(p.Type), Bool: p.BoolValue, Int: p.IntegerValue, Double: p.DoubleValue,
		String: p.StringValue, Bytes: p.ByteArrayValue, Bools: p.BoolArrayValue, Ints: p.IntegerArrayValue,
		Doubles: p.DoubleArrayValue, Strings: p.StringArrayValue}
}

func fromROSParams(ps []rclmsg.Parameter) []control.NamedValue {
	out := make([]control.NamedValue, len(ps))
	for i, p := range ps {
		out[i] = control.NamedValue{Name: p.Name, Value: fromROS(p.Value)}
	}
	return out
}

func describe(d control.Descriptor) rclmsg.ParameterDescriptor {
	out := rclmsg.ParameterDescriptor{Name: d.Name, Type: uint8(d.Kind), Description: d.Description,
		AdditionalConstraints: d.Constraints, ReadOnly: d.ReadOnly}
	if r := d.Range; r != nil {
		if d.Kind == control.KindInt {
			out.IntegerRange = []rclmsg.IntegerRange{{FromValue: int64(r.From), ToValue: int64(r.To), Step: uint64(r.Step)}}
		} else {
			out.FloatingPointRange = []rclmsg.FloatingPointRange{{FromValue: r.From, ToValue: r.To, Step: r.Step}}
		}
	}
	return out
}

// parameterEvents publishes /parameter_events as rclcpp does.
type parameterEvents struct {
	pub   *rclmsg.ParameterEventPublisher
	node  string
	clock *control.Clock
}

func newParameterEvents(n *rclgo.Node, clock *control.Clock) (*parameterEvents, error) {
	q := rclgo.NewDefaultQosProfile()
	q.Depth = 1000 // rmw_qos_profile_parameter_events
	pub, err := rclmsg.NewParameterEventPublisher(n, TopicParameterEvents, &rclgo.PublisherOptions{Qos: q})
	if err != nil {
		return nil, fmt.Errorf("ros: publisher %s: %w", TopicParameterEvents, err)
	}
	return &parameterEvents{pub: pub, node: n.FullyQualifiedName(), clock: clock}, nil
}

func (e *parameterEvents) event() *rclmsg.ParameterEvent {
	now := e.clock.Now()
	ev := rclmsg.NewParameterEvent()
	ev.Node = e.node
	ev.Stamp = builtin.Time{Sec: int32(now / 1e9), Nanosec: uint32(now % 1e9)}
	return ev
}

// publishNew announces every parameter at start-up.
func (e *parameterEvents) publishNew(p control.Params) {
	ev := e.event()
	for _, d := range control.Descriptors {
		v, _ := p.Get(d.Name)
		ev.NewParameters = append(ev.NewParameters, rclmsg.Parameter{Name: d.Name, Value: toROS(v)})
	}
	_ = e.pub.Publish(ev)
}

// publishChanged announces accepted changes with their stored values.
func (e *parameterEvents) publishChanged(p control.Params, changes []control.NamedValue) {
	ev := e.event()
	for _, c := range changes {
		v, _ := p.Get(c.Name)
		ev.ChangedParameters = append(ev.ChangedParameters, rclmsg.Parameter{Name: c.Name, Value: toROS(v)})
	}
	_ = e.pub.Publish(ev)
}

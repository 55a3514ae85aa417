//go:build ros2

package ros

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tiiuae/rclgo/pkg/rclgo"
	"github.com/tiiuae/rclgo/pkg/rclgo/types"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/control"
)

// Topic and service names, relative to the node's namespace ("~/" is
// private to the node).
const (
	TopicStaticImage       = "static_image"
	TopicStaticCompressed  = "static_image/compressed"
	TopicGripperImage      = "gripper_image"
	TopicGripperCompressed = "gripper_image/compressed"
	TopicInstruction       = "instruction"
	TopicAction            = "action"
	TopicStepStats         = "~/step_stats"
	TopicDiagnostics       = "/diagnostics"
	TopicClock             = "/clock"
	TopicParameterEvents   = "/parameter_events"
	ServiceReset           = "~/reset"
)

// Config is what Run needs; the executable fills it from the command line.
type Config struct {
	Args    control.RosArgs
	RclArgs *rclgo.Args
	Params  control.Params
	Env     control.Environment
	Ignored []string // overrides of parameters the node does not declare
}

// glue holds the node's ROS entities and the core they feed.
type glue struct {
	core  *control.Node
	loop  *control.Loop
	clock *control.Clock
	node  *rclgo.Node
	log   *rclgo.Logger

	actionPub, statsPub *rclgo.Publisher
	diag                *diagnosticsPublisher
	events              *parameterEvents

	wake chan struct{} // a new image or parameter: the inference goroutine looks again

	// Decode buffers, one per subscription: callbacks run on rclgo's one
	// executor goroutine, and the loop copies what it keeps.
	static, gripper   msgs.Image
	staticC, gripperC msgs.CompressedImage
	instr             msgs.String
	clockMsg          msgs.Time

	warnMu   sync.Mutex
	lastWarn map[string]time.Time

	// Owned by the inference goroutine.
	actionBuf, statsBuf []byte
	logged              control.Counts // what logNoAction has reported
}

// Run opens the model, creates every ROS entity (rclgo services only the
// entities that exist when spinning starts), then spins until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	eng, err := control.OpenEngine(cfg.Params, cfg.Env)
	if err != nil {
		return err
	}
	defer eng.Close()
	core, err := control.NewNode(eng, cfg.Params)
	if err != nil {
		return err
	}
	rctx, err := rclgo.NewContext(rclgo.ClockTypeROSTime, cfg.RclArgs)
	if err != nil {
		return fmt.Errorf("ros: rcl context: %w", err)
	}
	defer rctx.Close()
	// rcl applies the __node and __ns remaps of the command line.
	rn, err := rctx.NewNode(control.NodeName, "")
	if err != nil {
		return fmt.Errorf("ros: node: %w", err)
	}
	g := &glue{core: core, loop: core.Loop(), clock: control.NewClock(cfg.Params.Bool(control.ParamUseSimTime)),
		node: rn, log: rn.Logger(), wake: make(chan struct{}, 1), lastWarn: map[string]time.Time{}}
	g.warnIgnored(cfg.Ignored)
	if err := g.create(); err != nil {
		return err
	}
	m := eng.Manifest()
	g.log.Infof("deer_vla: model %q (%d exits, %s), provider %s; listening on %s and %s",
		m.Name, len(m.Exits), m.Dir, cfg.Params.Str(control.ParamProvider), rn.FullyQualifiedName(), TopicInstruction)

	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	wg.Add(2)
	go func() { defer wg.Done(); g.infer(runCtx) }()
	go func() { defer wg.Done(); g.diag.run(runCtx, g) }()
	g.events.publishNew(core.Params())
	if err := rctx.Spin(runCtx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("ros: spin: %w", err)
	}
	return nil
}

func sensorQoS() *rclgo.SubscriptionOptions {
	q := rclgo.NewDefaultQosProfile()
	q.Reliability, q.Depth = rclgo.ReliabilityBestEffort, 5
	return &rclgo.SubscriptionOptions{Qos: q}
}

func latchedQoS() *rclgo.SubscriptionOptions {
	q := rclgo.NewDefaultQosProfile()
	q.Durability, q.Depth = rclgo.DurabilityTransientLocal, 1
	return &rclgo.SubscriptionOptions{Qos: q}
}

// create makes every subscription, publisher and service.
func (g *glue) create() error {
	ts := map[string]typeRef{}
	for _, t := range []typeRef{{pkg: "sensor_msgs", name: "Image"}, {pkg: "sensor_msgs", name: "CompressedImage"},
		{pkg: "std_msgs", name: "String"}, {pkg: "rosgraph_msgs", name: "Clock"},
		{pkg: "deer_vla_msgs", name: "Action"}, {pkg: "deer_vla_msgs", name: "StepStats"}} {
		if err := t.load(); err != nil {
			return err
		}
		ts[t.pkg+"/"+t.name] = t
	}
	subs := []struct {
		topic string
		typ   string
		qos   *rclgo.SubscriptionOptions
		take  func([]byte) error
	}{
		{TopicStaticImage, "sensor_msgs/Image", sensorQoS(), func(b []byte) error { return g.onImage(b, &g.static, g.loop.OnStaticImage) }},
		{TopicGripperImage, "sensor_msgs/Image", sensorQoS(), func(b []byte) error { return g.onImage(b, &g.gripper, g.loop.OnGripperImage) }},
		{TopicStaticCompressed, "sensor_msgs/CompressedImage", sensorQoS(), func(b []byte) error {
			return g.onCompressed(b, &g.staticC, g.loop.OnStaticCompressed)
		}},
		{TopicGripperCompressed, "sensor_msgs/CompressedImage", sensorQoS(), func(b []byte) error {
			return g.onCompressed(b, &g.gripperC, g.loop.OnGripperCompressed)
		}},
		{TopicInstruction, "std_msgs/String", latchedQoS(), g.onInstruction},
		// ros2 bag play --clock publishes /clock best effort. The
		// subscription exists under wall time too: use_sim_time can change
		// live, and rclgo serves only the entities it starts spinning with.
		{TopicClock, "rosgraph_msgs/Clock", sensorQoS(), g.onClock},
	}
	for _, s := range subs {
		take, topic := s.take, s.topic
		_, err := g.node.NewSubscription(topic, ts[s.typ].support, s.qos, func(sub *rclgo.Subscription) {
			data, _, err := sub.TakeSerializedMessage()
			if err != nil {
				return // woken with nothing to take: nothing to do
			}
			if err := take(data); err != nil {
				g.warnEvery(topic, "malformed message on %s: %v", topic, err)
			}
		})
		if err != nil {
			return fmt.Errorf("ros: subscribe %s: %w", topic, err)
		}
	}
	var err error
	if g.actionPub, err = g.node.NewPublisher(TopicAction, ts["deer_vla_msgs/Action"].support, nil); err != nil {
		return fmt.Errorf("ros: publisher %s: %w", TopicAction, err)
	}
	if g.statsPub, err = g.node.NewPublisher(TopicStepStats, ts["deer_vla_msgs/StepStats"].support, nil); err != nil {
		return fmt.Errorf("ros: publisher %s: %w", TopicStepStats, err)
	}
	if g.diag, err = newDiagnosticsPublisher(g.node); err != nil {
		return err
	}
	if g.events, err = newParameterEvents(g.node, g.clock); err != nil {
		return err
	}
	if err := g.serveParameters(); err != nil {
		return err
	}
	return g.serveReset()
}

// typeRef is a message type loaded at run time from its C type support
// library; the package's own CDR codec reads and writes its bytes, so only
// the serialized paths of rclgo are used with it.
type typeRef struct {
	pkg, name string
	support   types.MessageTypeSupport
}

func (t *typeRef) load() error {
	ts, err := rclgo.LoadDynamicMessageTypeSupport(t.pkg, t.name)
	if err != nil {
		return fmt.Errorf("ros: type support of %s/msg/%s (is the workspace sourced?): %w", t.pkg, t.name, err)
	}
	t.support = ts
	return nil
}

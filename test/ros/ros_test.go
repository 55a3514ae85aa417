// Package ros_test runs the node against a real ROS 2 Humble, where one is
// installed: see integration.sh for what it checks.
package ros_test

import (
	"os"
	"os/exec"
	"testing"
)

const rosSetup = "/opt/ros/humble/setup.bash"

func TestAgainstRealROS2(t *testing.T) {
	if _, err := os.Stat(rosSetup); err != nil {
		t.Skipf("ROS 2 Humble is not installed (%v): the ROS 2 integration test did not run", err)
	}
	out, err := exec.Command("bash", "integration.sh").CombinedOutput()
	t.Logf("integration.sh:\n%s", out)
	if err != nil {
		t.Fatalf("integration.sh failed: %v", err)
	}
}

//go:build tools

// Package rosgen pins rclgo-gen, the generator of the Go bindings in
// msgs/rosgen, in its own module so its dependencies stay out of the main
// module. See generate.sh.
package rosgen

import _ "github.com/tiiuae/rclgo/cmd/rclgo-gen"

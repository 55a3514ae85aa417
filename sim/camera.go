package sim

import "math"

// vec3 is a point or direction in world coordinates.
type vec3 [3]float64

func (a vec3) add(b vec3) vec3      { return vec3{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec3) sub(b vec3) vec3      { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec3) scale(k float64) vec3 { return vec3{a[0] * k, a[1] * k, a[2] * k} }
func (a vec3) dot(b vec3) float64   { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec3) unit() vec3           { return a.scale(1 / math.Sqrt(a.dot(a))) }
func (a vec3) cross(b vec3) vec3 {
	return vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// camera is a pinhole camera: origin, orthonormal right/up/forward axes and
// a focal length in pixels, for a w x h image.
type camera struct {
	w, h           int
	origin         vec3
	right, up, fwd vec3
	focal          float64
	// Per pixel, filled by prepare: the ray direction, the distance to
	// the table plane (+Inf if the ray misses it) and the colour there.
	dirs  []vec3
	surfT []float64
	surfC []vec3
}

// newCamera returns a w x h camera with its per-pixel buffers.
func newCamera(w, h int) camera {
	return camera{w: w, h: h, dirs: make([]vec3, w*h), surfT: make([]float64, w*h), surfC: make([]vec3, w*h)}
}

// prepare computes every pixel's ray and what it sees of the table plane;
// call it after moving the camera.
func (c *camera) prepare() {
	for j := range c.h {
		for i := range c.w {
			k := j*c.w + i
			d := c.ray(i, j)
			c.dirs[k], c.surfT[k], c.surfC[k] = d, math.Inf(1), floorColour
			if d[2] < 0 {
				t := -c.origin[2] / d[2]
				c.surfT[k] = t
				c.surfC[k] = surfaceColour(c.origin[0]+t*d[0], c.origin[1]+t*d[1])
			}
		}
	}
}

// lookAt points c from origin towards target, keeping world z up.
func (c *camera) lookAt(origin, target vec3) {
	c.origin = origin
	c.fwd = target.sub(origin).unit()
	c.right = c.fwd.cross(vec3{0, 0, 1}).unit()
	c.up = c.right.cross(c.fwd)
}

// lookDown places c at origin looking straight down, with the image's up
// along the yaw-rotated +y axis.
func (c *camera) lookDown(origin vec3, yaw float64) {
	sin, cos := math.Sincos(yaw)
	c.origin = origin
	c.fwd = vec3{0, 0, -1}
	c.right = vec3{cos, sin, 0}
	c.up = vec3{-sin, cos, 0}
}

// project returns the pixel coordinates of p and its depth along the
// optical axis.
func (c *camera) project(p vec3) (u, v, depth float64) {
	r := p.sub(c.origin)
	depth = r.dot(c.fwd)
	u = float64(c.w)/2 + c.focal*r.dot(c.right)/depth
	v = float64(c.h)/2 - c.focal*r.dot(c.up)/depth
	return u, v, depth
}

// ray returns the (unnormalised) direction through the centre of pixel
// (i, j).
func (c *camera) ray(i, j int) vec3 {
	x := (float64(i) + 0.5 - float64(c.w)/2) / c.focal
	y := (float64(j) + 0.5 - float64(c.h)/2) / c.focal
	return c.fwd.add(c.right.scale(x)).sub(c.up.scale(y))
}

// fitFocal sets the largest focal length at which every point in pts
// projects inside the image with margin pixels to spare.
func (c *camera) fitFocal(pts []vec3, margin float64) {
	c.focal = math.Inf(1)
	for _, p := range pts {
		r := p.sub(c.origin)
		z := r.dot(c.fwd)
		if x := math.Abs(r.dot(c.right)) / z; x > 0 {
			c.focal = math.Min(c.focal, (float64(c.w)/2-margin)/x)
		}
		if y := math.Abs(r.dot(c.up)) / z; y > 0 {
			c.focal = math.Min(c.focal, (float64(c.h)/2-margin)/y)
		}
	}
}

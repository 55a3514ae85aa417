package sim

import "math"

// Image sizes, in pixels. Both images are square rgb8, row-major, with a
// row step of width*3 bytes.
const (
	StaticSize  = 64
	GripperSize = 32
)

// Camera placement. The static camera looks at the table from the front
// (negative y) and above; the gripper camera rides gripperCamHeight above
// the fingertips, looks straight down and turns with the effector's yaw.
var (
	staticCamOrigin = vec3{0, -1.4, 2.9}
	staticCamTarget = vec3{0, -0.05, 0}
	// staticCamFit are the points the static camera must see: the bins,
	// the spawn area and the middle of the table's near and far edges
	// (the table's corners may fall outside the image).
	staticCamFit = [...]vec3{{-1, -0.75, 0}, {1, -0.75, 0}, {-1, 0.75, 0}, {1, 0.75, 0}, {0, -1, 0}, {0, 1, 0}}
)

const (
	gripperCamHeight = 0.25
	gripperCamFOV    = 70 * math.Pi / 180
	shadowFactor     = 0.55
)

// Effector drawing geometry, in metres in the effector frame.
const (
	fingerOpen       = 0.1
	fingerHolding    = BlockHalf + 0.015
	fingerClosed     = 0.03
	fingerHalfW      = 0.015
	fingerHalfD      = 0.03
	fingerHalfH      = 0.05
	handHalfW        = 0.13
	handHalfD        = 0.045
	handHalfH        = 0.025
	binBorder        = 0.03
	numEffectorBoxes = 3
)

// Palette, 0..255.
var (
	blockColours = [...]vec3{Red: {215, 45, 40}, Green: {45, 170, 65}, Blue: {45, 85, 230}, Yellow: {240, 210, 40}}
	tableColour  = vec3{200, 182, 150}
	floorColour  = vec3{50, 50, 60}
	binColours   = [2][2]vec3{{{140, 210, 220}, {40, 115, 130}}, {{225, 165, 220}, {125, 55, 125}}}
	handColour   = vec3{245, 245, 245}
	fingerColour = vec3{40, 40, 40}
	lightDir     = vec3{-0.35, -0.55, 1}.unit()
)

// renderer owns both cameras and their pixel buffers, reused every step.
type renderer struct {
	static, gripper       camera
	staticPix, gripperPix []byte
	boxes                 [MaxBlocks + numEffectorBoxes]box
	n                     int
}

// newRenderer allocates the buffers and places the static camera so the
// whole table fills its view.
func newRenderer() *renderer {
	r := &renderer{
		static:     newCamera(StaticSize, StaticSize),
		gripper:    newCamera(GripperSize, GripperSize),
		staticPix:  make([]byte, StaticSize*StaticSize*3),
		gripperPix: make([]byte, GripperSize*GripperSize*3),
	}
	r.static.lookAt(staticCamOrigin, staticCamTarget)
	r.static.fitFocal(staticCamFit[:], 0.5)
	r.static.prepare()
	r.gripper.focal = float64(GripperSize) / 2 / math.Tan(gripperCamFOV/2)
	return r
}

// render draws both camera images of s.
func (r *renderer) render(s *State) {
	r.scene(s)
	e := &s.Effector
	r.gripper.lookDown(vec3(e.Pos).add(vec3{0, 0, gripperCamHeight}), e.Yaw)
	r.gripper.prepare()
	r.draw(&r.static, r.staticPix, false)
	r.draw(&r.gripper, r.gripperPix, true)
}

// scene turns the blocks and the effector into boxes.
func (r *renderer) scene(s *State) {
	r.n = 0
	for i := range s.NumBlocks {
		b := &s.Blocks[i]
		r.boxes[r.n].set(b.Pos, vec3{BlockHalf, BlockHalf, BlockHalf}, b.Yaw, blockColours[b.Colour], true)
		r.n++
	}
	e := &s.Effector
	sin, cos := math.Sincos(e.Yaw)
	off := fingerOpen
	if e.Closed {
		off = fingerClosed
		if s.Held >= 0 {
			off = fingerHolding
		}
	}
	for _, side := range [2]float64{-1, 1} {
		c := vec3(e.Pos).add(vec3{side * off * cos, side * off * sin, fingerHalfH})
		r.boxes[r.n].set(c, vec3{fingerHalfW, fingerHalfD, fingerHalfH}, e.Yaw, fingerColour, true)
		r.n++
	}
	hand := vec3(e.Pos).add(vec3{0, 0, 2*fingerHalfH + handHalfH})
	r.boxes[r.n].set(hand, vec3{handHalfW, handHalfD, handHalfH}, e.Yaw, handColour, false)
	r.n++
}

// draw ray-casts every pixel of c into pix.
func (r *renderer) draw(c *camera, pix []byte, gripperView bool) {
	for k := range r.n {
		r.boxes[k].bound(c)
	}
	for j := range c.h {
		for i := range c.w {
			col := r.shade(c, i, j, gripperView)
			o := (j*c.w + i) * 3
			for ch := range 3 {
				pix[o+ch] = byte(clamp(col[ch], 0, 255) + 0.5)
			}
		}
	}
}

// shade returns the colour seen through pixel (i, j) of c: the nearest of
// the table plane and the boxes, lit by lightDir, darkened where a box
// shades it from the vertical light.
func (r *renderer) shade(c *camera, i, j int, gripperView bool) vec3 {
	px := j*c.w + i
	o, d := c.origin, c.dirs[px]
	best, hit, col, n := c.surfT[px], -1, c.surfC[px], vec3{0, 0, 1}
	for k := range r.n {
		b := &r.boxes[k]
		if (gripperView && !b.inGripperView) || i < b.u0 || i > b.u1 || j < b.v0 || j > b.v1 {
			continue
		}
		if t, bn, ok := b.hit(o, d); ok && t < best {
			best, hit, col, n = t, k, b.colour, bn
		}
	}
	if math.IsInf(best, 1) {
		return floorColour
	}
	amb, dif := 0.35, 0.65
	f := (amb + dif*max(0, n.dot(lightDir))) / (amb + dif*lightDir[2])
	if n[2] > 0.5 {
		p := o.add(d.scale(best))
		for k := range r.n {
			b := &r.boxes[k]
			if k != hit && (!gripperView || b.inGripperView) && b.shadows(p) {
				f *= shadowFactor
				break
			}
		}
		if hit >= 0 {
			f *= 1 + 0.6*max(0, p[2]-2*BlockHalf) // lifted tops look brighter
		}
	}
	return col.scale(f)
}

// surfaceColour is the colour of the table plane at (x, y): table, bins
// with a darker border, or the floor beyond the table.
func surfaceColour(x, y float64) vec3 {
	if math.Abs(x) > TableHalf || math.Abs(y) > TableHalf {
		return floorColour
	}
	for k, b := range Bins {
		if !b.Contains(x, y) {
			continue
		}
		inner := math.Abs(x-b.Centre[0]) <= b.Half[0]-binBorder && math.Abs(y-b.Centre[1]) <= b.Half[1]-binBorder
		if inner {
			return binColours[k][0]
		}
		return binColours[k][1]
	}
	return tableColour
}

package sim

import "math"

// box is a drawable cuboid rotated by yaw about z.
type box struct {
	centre   vec3
	half     vec3
	sin, cos float64
	colour   vec3 // 0..255
	// inGripperView is false for parts the gripper camera looks through.
	inGripperView bool
	// bounding pixel rectangle in the camera being rendered (inclusive).
	u0, v0, u1, v1 int
	// world-axis bounds of the footprint, and the bottom height, for a
	// quick shadow test.
	x0, x1, y0, y1, bottom float64
}

// set places b.
func (b *box) set(centre, half vec3, yaw float64, colour vec3, inGripperView bool) {
	b.centre, b.half, b.colour, b.inGripperView = centre, half, colour, inGripperView
	b.sin, b.cos = math.Sincos(yaw)
	ex := math.Abs(b.cos)*half[0] + math.Abs(b.sin)*half[1]
	ey := math.Abs(b.sin)*half[0] + math.Abs(b.cos)*half[1]
	b.x0, b.x1, b.y0, b.y1 = centre[0]-ex, centre[0]+ex, centre[1]-ey, centre[1]+ey
	b.bottom = centre[2] - half[2]
}

// local turns a world offset into b's frame.
func (b *box) local(d vec3) vec3 {
	return vec3{b.cos*d[0] + b.sin*d[1], -b.sin*d[0] + b.cos*d[1], d[2]}
}

// hit intersects the ray o + t*d (t > 0) with b. It returns the entry
// distance and the world normal of the face hit; a ray starting inside b
// misses.
func (b *box) hit(o, d vec3) (t float64, n vec3, ok bool) {
	lo, ld := b.local(o.sub(b.centre)), b.local(d)
	tmin, tmax := math.Inf(-1), math.Inf(1)
	axis, sign := -1, 0.0
	for k := range 3 {
		if ld[k] == 0 {
			if math.Abs(lo[k]) > b.half[k] {
				return 0, n, false
			}
			continue
		}
		t1 := (-b.half[k] - lo[k]) / ld[k]
		t2 := (b.half[k] - lo[k]) / ld[k]
		s := -1.0
		if t1 > t2 {
			t1, t2, s = t2, t1, 1
		}
		if t1 > tmin {
			tmin, axis, sign = t1, k, s
		}
		tmax = min(tmax, t2)
	}
	if axis < 0 || tmin <= 0 || tmin > tmax {
		return 0, n, false
	}
	var ln vec3
	ln[axis] = sign
	n = vec3{b.cos*ln[0] - b.sin*ln[1], b.sin*ln[0] + b.cos*ln[1], ln[2]}
	return tmin, n, true
}

// shadows reports whether b shades the upward-facing point p under the
// vertical light: p is under b's footprint and below its bottom.
func (b *box) shadows(p vec3) bool {
	if p[2] > b.bottom+1e-6 || p[0] < b.x0 || p[0] > b.x1 || p[1] < b.y0 || p[1] > b.y1 {
		return false
	}
	l := b.local(p.sub(b.centre))
	return math.Abs(l[0]) <= b.half[0] && math.Abs(l[1]) <= b.half[1]
}

// bound sets b's pixel rectangle in c from its eight corners; a box
// reaching behind the camera covers the whole image.
func (b *box) bound(c *camera) {
	b.u0, b.v0, b.u1, b.v1 = c.w, c.h, -1, -1
	for k := range 8 {
		l := vec3{b.half[0], b.half[1], b.half[2]}
		for a := range 3 {
			if k&(1<<a) != 0 {
				l[a] = -l[a]
			}
		}
		p := b.centre.add(vec3{b.cos*l[0] - b.sin*l[1], b.sin*l[0] + b.cos*l[1], l[2]})
		u, v, z := c.project(p)
		if z <= 1e-3 {
			b.u0, b.v0, b.u1, b.v1 = 0, 0, c.w-1, c.h-1
			return
		}
		b.u0 = min(b.u0, int(math.Floor(u))-1)
		b.v0 = min(b.v0, int(math.Floor(v))-1)
		b.u1 = max(b.u1, int(math.Ceil(u))+1)
		b.v1 = max(b.v1, int(math.Ceil(v))+1)
	}
	b.u0, b.v0 = max(b.u0, 0), max(b.v0, 0)
	b.u1, b.v1 = min(b.u1, c.w-1), min(b.v1, c.h-1)
}

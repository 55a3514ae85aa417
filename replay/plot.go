package replay

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Plot is a minimal line chart rendered as SVG, enough for the replay's
// two figures; it needs no plotting library.
type Plot struct {
	Title, XLabel, YLabel string
	X, Y                  []float64
	Marks                 bool // draw a dot at each point
}

// WriteSVG renders the plot.
func (p *Plot) WriteSVG(w io.Writer) error {
	const width, height, left, right, top, bottom = 640.0, 360.0, 70.0, 20.0, 40.0, 50.0
	x0, x1 := bounds(p.X)
	y0, y1 := bounds(p.Y)
	sx := func(x float64) float64 { return left + (x-x0)/(x1-x0)*(width-left-right) }
	sy := func(y float64) float64 { return height - bottom - (y-y0)/(y1-y0)*(height-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%g" y="22" text-anchor="middle" font-size="15">%s</text>`+"\n", width/2, esc(p.Title))
	fmt.Fprintf(&b, `<path d="M%g %g V%g H%g" stroke="black" fill="none"/>`+"\n", left, top, height-bottom, width-right)
	for i := 0; i <= 4; i++ {
		xv, yv := x0+float64(i)/4*(x1-x0), y0+float64(i)/4*(y1-y0)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%.3g</text>`, sx(xv), height-bottom+16, xv)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%.3g</text>`+"\n", left-6, sy(yv)+4, yv)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, (left+width-right)/2, height-10, esc(p.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+height-bottom)/2, esc(p.YLabel))
	b.WriteString(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="`)
	for i := range p.X {
		fmt.Fprintf(&b, "%.1f,%.1f ", sx(p.X[i]), sy(p.Y[i]))
	}
	b.WriteString("\"/>\n")
	if p.Marks {
		for i := range p.X {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#1f77b4"/>`, sx(p.X[i]), sy(p.Y[i]))
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// bounds returns a padded range of the finite values, never empty.
func bounds(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if lo > hi {
		return 0, 1
	}
	if lo == hi {
		return lo - 0.5, hi + 0.5
	}
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// ExitsPlot is the exits-over-time figure of a report.
func (r *Report) ExitsPlot() *Plot {
	ys, per := r.ExitSeries()
	xs := make([]float64, len(ys))
	for i := range xs {
		xs[i] = float64(i*per) + float64(per-1)/2
	}
	title := "Exit taken per step"
	if per > 1 {
		title = fmt.Sprintf("Exit taken (mean over %d steps)", per)
	}
	return &Plot{Title: title, XLabel: "step", YLabel: "exit taken (1: shallowest)", X: xs, Y: ys}
}

// SweepPoint is one replay of a budget sweep.
type SweepPoint struct {
	Budget    float64 // average GFLOPs budget asked for
	AvgGFLOPs float64 // realised
	PoseRMS   float64 // against the expert actions
	Agreement float64 // gripper agreement with the expert
}

// SweepPlot is the budget-vs-error figure of a sweep.
func SweepPlot(points []SweepPoint) *Plot {
	p := &Plot{Title: "Average compute against action error", XLabel: "realised average decoder GFLOPs per action", YLabel: "pose error against the expert (RMS)", Marks: true}
	for _, s := range points {
		p.X = append(p.X, s.AvgGFLOPs)
		p.Y = append(p.Y, s.PoseRMS)
	}
	return p
}

// WriteFile writes the plot as SVG to path.
func (p *Plot) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

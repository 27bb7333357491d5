package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
)

// Chart geometry, in SVG user units (pixels).
const (
	chartWidth  = 900
	labelRight  = 200 // right edge of the row labels
	plotLeft    = 210
	plotRight   = 740 // value labels go to the right of the bars
	chartTop    = 62
	rowPitch    = 28
	barHeight   = 18
	chartBottom = 74 // axis labels, legend and footer
)

// Bar colours by family.
const (
	colourFloor = "#9e9e9e"
	colourAuth  = "#1f6fb4"
	colourPeer  = "#e8822a"
)

// Chart draws a horizontal bar chart of the medians (ns/op) of one group's
// rows on a logarithmic axis, with the confidence interval of each median
// as a whisker when there are enough samples. The result is a standalone
// SVG document.
func Chart(run *Run, groupName string, m Machine) ([]byte, error) {
	var rows []Row
	for _, r := range run.Rows {
		if r.Group == groupName && r.Time.Median > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no results in group %s to chart", groupName)
	}
	g, ok := groups[groupName]
	if !ok {
		g = group{Title: "Benchmark" + groupName}
	}
	base, hasBase := run.Find(groupName, g.Baseline)
	hasBase = hasBase && base.Time.Median > 0

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		l, h := whisker(r.Time)
		lo, hi = math.Min(lo, l), math.Max(hi, h)
	}
	axisLo := math.Pow(10, math.Floor(math.Log10(lo)))
	axisHi := math.Pow(10, math.Ceil(math.Log10(hi)))
	if axisHi <= axisLo {
		axisHi = axisLo * 10
	}
	x := func(v float64) float64 {
		return plotLeft + (plotRight-plotLeft)*math.Log10(v/axisLo)/math.Log10(axisHi/axisLo)
	}

	plotBottom := chartTop + len(rows)*rowPitch
	height := plotBottom + chartBottom
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, "<title>%s: median ns/op</title>\n", esc(g.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s: median time per token (ns/op, log scale; shorter is faster)</text>`+"\n", 10, esc(g.Title))
	sub := fmt.Sprintf("%s, %s, %s", orUnknown(m.CPU), coresText(m.Cores), orUnknown(m.GoVersion))
	if m.Date != "" {
		sub += ", " + m.Date
	}
	fmt.Fprintf(&b, `<text x="10" y="44" fill="#555555">%s</text>`+"\n", esc(sub))

	// Grid: a line at every decade, lighter ones at 2× and 5×.
	b.WriteString(`<g stroke-width="1">` + "\n")
	for d := axisLo; d <= axisHi*1.0001; d *= 10 {
		for _, k := range []float64{1, 2, 5} {
			v := d * k
			if v > axisHi*1.0001 {
				break
			}
			colour, dash := "#bbbbbb", ""
			if k != 1 {
				colour, dash = "#e4e4e4", ` stroke-dasharray="3,3"`
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"%s/>`+"\n", x(v), chartTop-6, x(v), plotBottom, colour, dash)
		}
	}
	b.WriteString("</g>\n")
	for d := axisLo; d <= axisHi*1.0001; d *= 10 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333333">%s</text>`+"\n", x(d), plotBottom+16, esc(fmtNanos(d)))
	}

	for i, r := range rows {
		y := chartTop + i*rowPitch
		mid := float64(y) + barHeight/2
		w := math.Max(x(r.Time.Median)-plotLeft, 1)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", labelRight, mid, esc(r.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s ns/op ± %s</title></rect>`+"\n",
			plotLeft, y, w, barHeight, family(r.Name), esc(r.Name), esc(fmtNum(r.Time.Median)), esc(r.Time.Range()))
		end := x(r.Time.Median)
		if !math.IsInf(r.Time.Lo, 0) && !math.IsInf(r.Time.Hi, 0) && r.Time.Hi > r.Time.Lo {
			xl, xh := x(r.Time.Lo), x(r.Time.Hi)
			fmt.Fprintf(&b, `<path d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f" stroke="#222222" fill="none"/>`+"\n",
				xl, mid, xh, xl, mid-4, mid+4, xh, mid-4, mid+4)
			end = math.Max(end, xh)
		}
		label := fmtNum(r.Time.Median) + " ns"
		if hasBase {
			label += " (" + fmtRatio(r.Time.Median/base.Time.Median) + ")"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" dominant-baseline="middle" fill="#222222">%s</text>`+"\n", end+6, mid, esc(label))
	}

	// Legend and footer.
	ly := plotBottom + 38
	lx := plotLeft
	for _, item := range []struct{ colour, text string }{
		{colourFloor, "floor (bare HMAC + base64)"},
		{colourAuth, "authkit/auth"},
		{colourPeer, "peer libraries"},
	} {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`+"\n", lx, ly-10, item.colour)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", lx+16, ly, esc(item.text))
		lx += 24 + 7*len(item.text)
	}
	foot := "Whiskers: 95% confidence interval of the median. In parentheses: ratio to " + g.Baseline + "."
	if !hasBase {
		foot = "Whiskers: 95% confidence interval of the median."
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#555555" font-size="11">%s</text>`+"\n", ly+24, esc(foot))
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// whisker returns the extent a row needs on the axis.
func whisker(s Stat) (lo, hi float64) {
	lo, hi = s.Median, s.Median
	if !math.IsInf(s.Lo, 0) && s.Lo > 0 {
		lo = math.Min(lo, s.Lo)
	}
	if !math.IsInf(s.Hi, 0) {
		hi = math.Max(hi, s.Hi)
	}
	return lo, hi
}

// family picks a bar's colour from the row name.
func family(name string) string {
	switch {
	case strings.HasPrefix(name, "floor"):
		return colourFloor
	case strings.HasPrefix(name, "auth"):
		return colourAuth
	}
	return colourPeer
}

// fmtNanos labels a power of ten of nanoseconds.
func fmtNanos(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%g s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%g µs", ns/1e3)
	}
	return fmt.Sprintf("%g ns", ns)
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

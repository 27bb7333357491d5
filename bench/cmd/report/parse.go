package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// confidence is the level of the intervals around medians, as benchstat's.
const confidence = 0.95

// Stat summarizes the samples of one metric of one benchmark as benchstat
// does: the median and a distribution-free confidence interval around it.
type Stat struct {
	Median, Lo, Hi float64 // Lo and Hi are infinite below 6 samples
	Min, Max       float64
	N              int
	Warnings       []string
}

// Range is the half-width of the confidence interval relative to the
// median, as benchstat prints it after "±": "3%", "0%", or "∞" when there
// are too few samples.
func (s Stat) Range() string {
	if s.N == 0 {
		return "?"
	}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return "∞"
	}
	if s.Median == 0 {
		return "0%"
	}
	v := math.Max(s.Hi/s.Median-1, 1-s.Lo/s.Median)
	return fmt.Sprintf("%.0f%%", 100*v)
}

// Row is one benchmark: BenchmarkGroup/Name, GOMAXPROCS suffix dropped.
type Row struct {
	Group, Name string
	Time        Stat // ns/op
	Bytes       Stat // B/op
	Allocs      Stat // allocs/op
	HasMem      bool // whether B/op and allocs/op were reported
}

// Run is a parsed `go test -bench` output.
type Run struct {
	// Config holds the file configuration lines ("goos: linux",
	// "cpu: ...", and the machine lines the report program writes) as
	// they stood at the first benchmark result.
	Config map[string]string
	// Rows are in the order of their first result.
	Rows []Row
	// Warnings are syntax errors and statistical caveats, deduplicated.
	Warnings []string
}

// Groups returns the run's groups in order of first appearance.
func (r *Run) Groups() []string {
	var gs []string
	for _, row := range r.Rows {
		if !slices.Contains(gs, row.Group) {
			gs = append(gs, row.Group)
		}
	}
	return gs
}

// Samples returns the largest number of samples of any row.
func (r *Run) Samples() int {
	n := 0
	for _, row := range r.Rows {
		n = max(n, row.Time.N)
	}
	return n
}

// Find returns the row group/name.
func (r *Run) Find(group, name string) (Row, bool) {
	for _, row := range r.Rows {
		if row.Group == group && row.Name == name {
			return row, true
		}
	}
	return Row{}, false
}

// Parse reads benchmark output in the Go benchmark format and summarizes
// each benchmark's samples.
func Parse(in io.Reader) (*Run, error) {
	type samples struct {
		group, name         string
		time, bytes, allocs []float64
	}
	var (
		order    []string
		byName   = map[string]*samples{}
		config   map[string]string
		warnings []string
	)
	rd := benchfmt.NewReader(in, "benchmarks")
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			warnings = appendUnique(warnings, rec.Error())
		case *benchfmt.Result:
			if config == nil {
				config = map[string]string{}
				for _, c := range rec.Config {
					if c.File {
						config[c.Key] = string(c.Value)
					}
				}
			}
			group, name := splitName(rec.Name)
			key := group + "/" + name
			s := byName[key]
			if s == nil {
				s = &samples{group: group, name: name}
				byName[key] = s
				order = append(order, key)
			}
			if v, ok := rec.Value("sec/op"); ok {
				// Back to ns, rounded to the picosecond so that the
				// round trip through seconds leaves no float residue.
				s.time = append(s.time, math.Round(v*1e12)/1e3)
			}
			if v, ok := rec.Value("B/op"); ok {
				s.bytes = append(s.bytes, v)
			}
			if v, ok := rec.Value("allocs/op"); ok {
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no benchmark results in the input")
	}
	run := &Run{Config: config, Warnings: warnings}
	for _, key := range order {
		s := byName[key]
		row := Row{Group: s.group, Name: s.name, Time: summarize(s.time)}
		if len(s.bytes) > 0 && len(s.allocs) > 0 {
			row.HasMem = true
			row.Bytes, row.Allocs = summarize(s.bytes), summarize(s.allocs)
		}
		for _, w := range row.Time.Warnings {
			run.Warnings = appendUnique(run.Warnings, w)
		}
		run.Rows = append(run.Rows, row)
	}
	return run, nil
}

// splitName turns the name of BenchmarkVerify/floor-hmac-sha256-2 into
// ("Verify", "floor-hmac-sha256"). A benchmark without sub-benchmarks is
// its own group.
func splitName(n benchfmt.Name) (group, name string) {
	base, parts := n.Parts()
	var sub []string
	for _, p := range parts {
		if strings.HasPrefix(string(p), "/") {
			sub = append(sub, string(p[1:]))
		}
	}
	if len(sub) == 0 {
		return string(base), string(base)
	}
	return string(base), strings.Join(sub, "/")
}

func summarize(values []float64) Stat {
	if len(values) == 0 {
		return Stat{}
	}
	thresholds := benchmath.DefaultThresholds
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(values, &thresholds), confidence)
	st := Stat{Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi, Min: slices.Min(values), Max: slices.Max(values), N: len(values)}
	for _, w := range sum.Warnings {
		st.Warnings = append(st.Warnings, w.Error())
	}
	return st
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

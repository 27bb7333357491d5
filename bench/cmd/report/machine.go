package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the benchmarks ran. The report program writes it
// as configuration lines at the top of the raw output (the benchmark format
// allows "key: value" lines), so that a report rendered later from the saved
// file still names the machine that produced it.
type Machine struct {
	CPU       string // model name from /proc/cpuinfo
	Cores     int    // logical CPUs
	GoVersion string // of the toolchain that ran go test
	Kernel    string
	Date      string // YYYY-MM-DD, UTC
	Command   string // the command that regenerates the report
	Benchtime string // go test -benchtime, "" for its default
	Load      string // the 1-minute load average before and after the run
}

// The configuration keys of a Machine.
const (
	keyCPU     = "machine-cpu"
	keyCores   = "machine-cores"
	keyGo      = "machine-go"
	keyKernel  = "machine-kernel"
	keyDate    = "machine-date"
	keyCommand = "report-command"
	keyBench   = "report-benchtime"
	keyLoad    = "machine-load"
)

// ConfigLines returns m as benchmark-format configuration lines.
func (m Machine) ConfigLines() string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.ReplaceAll(v, "\n", " "))
		}
	}
	line(keyCPU, m.CPU)
	if m.Cores > 0 {
		line(keyCores, fmt.Sprint(m.Cores))
	}
	line(keyGo, m.GoVersion)
	line(keyKernel, m.Kernel)
	line(keyDate, m.Date)
	line(keyCommand, m.Command)
	line(keyBench, m.Benchtime)
	line(keyLoad, m.Load)
	return b.String()
}

// MachineFromConfig reads back what ConfigLines wrote.
func MachineFromConfig(c map[string]string) Machine {
	cores, _ := strconv.Atoi(c[keyCores]) // 0 if absent
	cpu := c[keyCPU]
	if cpu == "" {
		cpu = c["cpu"] // go test's own, shorter
	}
	return Machine{
		CPU:       cpu,
		Cores:     cores,
		GoVersion: c[keyGo],
		Kernel:    c[keyKernel],
		Date:      c[keyDate],
		Command:   c[keyCommand],
		Benchtime: c[keyBench],
		Load:      c[keyLoad],
	}
}

// ThisMachine describes the machine the program runs on; dir is where the
// go command would run, so that its version is the one go test uses.
func ThisMachine(dir string) Machine {
	m := Machine{
		Cores: runtime.NumCPU(),
		Date:  time.Now().UTC().Format(time.DateOnly),
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m.CPU, _ = cpuModel(f)
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = runtime.GOOS + " " + strings.TrimSpace(string(b))
	}
	cmd := exec.Command("go", "env", "GOVERSION")
	cmd.Dir = dir
	if out, err := cmd.Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out)) + " " + runtime.GOOS + "/" + runtime.GOARCH
	}
	return m
}

// loadAverage returns the 1-minute load average, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// cpuModel returns the first "model name" of a /proc/cpuinfo, and how many
// processors it lists.
func cpuModel(r io.Reader) (model string, processors int) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "processor":
			processors++
		case "model name":
			if model == "" {
				model = strings.Join(strings.Fields(value), " ")
			}
		}
	}
	return model, processors
}

// Package testpython finds the Python interpreter that the module's
// interoperability tests run the real Python libraries with
// (itsdangerous, passlib, Flask-Security). Only tests import it.
package testpython

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Find returns the interpreter to run, $AUTH_TEST_PYTHON or else
// /usr/bin/python3 (where Debian installs the libraries; the python3 first
// on PATH may be another one), if it can import every one of modules.
// Otherwise it skips the test with a message that names the Debian
// packages to install — except under CI=true, where .ci/run installs them
// and their absence fails the test.
func Find(tb testing.TB, debianPackages string, modules ...string) string {
	tb.Helper()
	py := os.Getenv("AUTH_TEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	imports := strings.Join(modules, ", ")
	// #nosec G204 G702 -- tests only: the interpreter is the developer's $AUTH_TEST_PYTHON or Debian's, the modules are the caller's constants
	if out, err := exec.Command(py, "-B", "-c", "import "+imports).CombinedOutput(); err != nil {
		msg := "no Python with " + imports + " (" + py + ": " + err.Error() + " " + strings.TrimSpace(string(out)) +
			"): apt-get install " + debianPackages + ", or set AUTH_TEST_PYTHON"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return py
}

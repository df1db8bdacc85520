package classify_test

import (
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// runEnv is run with more environment (GITHUB_* variables).
func runEnv(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Commit: "test", Globals: &cmdutil.GlobalOptions{},
		Getenv: func(k string) string { return env[k] }}
	code := cli.Run(context.Background(), f, args)
	return result{code, out.String(), errOut.String()}
}

// ciRunArgs classifies the four shapes of the README demo (each gets its own
// label) and one unreadable file, expecting "red circle" everywhere: three
// images fail --expect, one is unreadable (tolerated by --max-errors 1).
func ciRunArgs(t *testing.T) (args []string, broken string) {
	t.Helper()
	model := tinyModel(t)
	broken = filepath.Join(t.TempDir(), "broken.png")
	if err := os.WriteFile(broken, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	args = []string{"classify", "--model", model, "--offline", "-q", "--max-errors", "1",
		"--labels", "red circle,green square,purple triangle,orange cross", "--expect", "red circle"}
	for _, s := range []string{"red-circle", "green-square", "purple-triangle", "orange-cross"} {
		args = append(args, filepath.Join(repoRoot, "testdata", "shapes", s+"-1.png"))
	}
	return append(args, broken), broken
}

// The JUnit schema's elements, declared here from the schema (Ant's
// JUnit.xsd / Jenkins' junit-10.xsd), not from the writer's types.
type xsdSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name, Timestamp, Hostname, Time string
		Tests, Failures, Errors         int
		Properties                      *struct {
			Property []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"property"`
		} `xml:"properties"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
		SystemOut *string `xml:"system-out"`
		SystemErr *string `xml:"system-err"`
	} `xml:"testsuite"`
}

func TestJUnitReportOnFailedExpect(t *testing.T) {
	args, broken := ciRunArgs(t)
	path := filepath.Join(t.TempDir(), "report.xml")
	r := run(t, t.TempDir(), "", append(args, "--junit", path)...)
	if r.code != cmdutil.ExitCheckFailed {
		t.Fatalf("exit %d, want %d (stderr %q)", r.code, cmdutil.ExitCheckFailed, r.stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got xsdSuites
	if err := xml.Unmarshal(data, &got); err != nil {
		t.Fatalf("--junit output does not parse: %v\n%s", err, data)
	}
	// Ant's schema's attribute names are lower case; xml's default for
	// untagged fields is the field name, so read those by hand.
	type suiteAttrs struct {
		Name      string `xml:"name,attr"`
		Timestamp string `xml:"timestamp,attr"`
		Hostname  string `xml:"hostname,attr"`
		Time      string `xml:"time,attr"`
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Errors    int    `xml:"errors,attr"`
	}
	var attrs struct {
		Suites []suiteAttrs `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &attrs); err != nil {
		t.Fatal(err)
	}
	if got.Tests != 5 || got.Failures != 3 || got.Errors != 1 || len(got.Suites) != 1 || len(attrs.Suites) != 1 {
		t.Fatalf("totals tests=%d failures=%d errors=%d suites=%d, want 5, 3, 1, 1\n%s", got.Tests, got.Failures, got.Errors, len(got.Suites), data)
	}
	s, a := got.Suites[0], attrs.Suites[0]
	if a.Tests != 5 || a.Failures != 3 || a.Errors != 1 || a.Name == "" || a.Hostname == "" || a.Time == "" {
		t.Errorf("testsuite attributes %+v", a)
	}
	if !strings.Contains(a.Timestamp, "T") || strings.HasSuffix(a.Timestamp, "Z") {
		t.Errorf("timestamp %q: Ant's schema wants an ISO 8601 time without a zone", a.Timestamp)
	}
	if s.Properties == nil || s.SystemOut == nil || s.SystemErr == nil {
		t.Errorf("Ant's schema requires properties, system-out and system-err:\n%s", data)
	}
	if len(s.Cases) != 5 {
		t.Fatalf("%d test cases, want 5", len(s.Cases))
	}
	for i, c := range s.Cases {
		if c.Name != args[len(args)-5+i] || c.ClassName == "" || c.Time == "" {
			t.Errorf("case %d: name %q classname %q time %q", i, c.Name, c.ClassName, c.Time)
		}
		switch {
		case i == 0:
			if c.Failure != nil || c.Error != nil {
				t.Errorf("red circle passed --expect but has a failure or error")
			}
		case c.Name == broken:
			if c.Error == nil || c.Error.Type == "" || c.Error.Message == "" || c.Failure != nil {
				t.Errorf("unreadable %s: want an <error> with type and message", c.Name)
			}
		default:
			if c.Failure == nil || c.Failure.Type != "expect" || !strings.Contains(c.Failure.Message, "expected red circle") {
				t.Errorf("%s: want an expect <failure>, got %+v", c.Name, c.Failure)
			}
		}
	}
	// And Python's parser (an independent XML reader) accepts it too.
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(py, "-c", `import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.findall("./testsuite/testcase")
print(r.tag, len(cases), len(r.findall("./testsuite/testcase/failure")), len(r.findall("./testsuite/testcase/error")))`, path).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "testsuites 5 3 1" {
			t.Errorf("python3 xml.etree: %v: %s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("python3 missing on CI")
	}
	checkWithJunitparser(t, path, broken)
}

// checkWithJunitparser reads the report with junitparser (Debian's
// python3-junitparser), the JUnit reader many CI tools and report mergers
// use: it must see 5 cases with 1 pass, 3 failures and 1 error, and the
// totals it computes from the cases must equal the ones we wrote.
func checkWithJunitparser(t *testing.T, path, broken string) {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import junitparser").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("junitparser is missing on CI (.ci/run installs python3-junitparser): %v", err)
		}
		t.Skipf("no junitparser (apt-get install python3-junitparser): %v", err)
	}
	out, err := exec.Command(py, "-c", `import sys
from junitparser import JUnitXml, Failure, Error
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    written = (suite.tests, suite.failures, suite.errors)
    suite.update_statistics()
    print("suite", *written, suite.tests, suite.failures, suite.errors)
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        print("case", case.name, ",".join(kinds) or "pass")
`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("junitparser: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 6 || lines[0] != "suite 5 3 1 5 3 1" {
		t.Fatalf("junitparser read:\n%s\nwant one suite of 5 cases, 3 failures, 1 error (written and recounted)", out)
	}
	var pass, fail, errs int
	for _, l := range lines[1:] {
		switch f := strings.Fields(l); {
		case f[len(f)-1] == "pass":
			pass++
		case f[len(f)-1] == "Failure":
			fail++
		case f[len(f)-1] == "Error" && strings.Contains(l, broken):
			errs++
		default:
			t.Errorf("junitparser case line %q", l)
		}
	}
	if pass != 1 || fail != 3 || errs != 1 {
		t.Errorf("junitparser: %d passed, %d failed, %d errors; want 1, 3, 1 (broken file the error)\n%s", pass, fail, errs, out)
	}
}

func TestJUnitPathCheckedBeforeWork(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "missing", "report.xml"), dir} {
		// A model that does not exist: exit 2 naming --junit shows the
		// check ran before the model load (which would exit 4).
		r := run(t, dir, "", "classify", "--model", filepath.Join(dir, "no-model"), "--labels", "a,b",
			"--junit", path, filepath.Join(repoRoot, "testdata", "shapes", "red-circle-1.png"))
		if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, "--junit") {
			t.Errorf("--junit %s: exit %d, stderr %q; want exit 2 naming --junit", path, r.code, r.stderr)
		}
	}
}

func TestGitHubFormatAnnotationsAndStepSummary(t *testing.T) {
	args, broken := ciRunArgs(t)
	summary := filepath.Join(t.TempDir(), "summary.md")
	r := runEnv(t, map[string]string{"CLIP_HOME": t.TempDir(), "GITHUB_STEP_SUMMARY": summary}, append(args, "--format", "github")...)
	if r.code != cmdutil.ExitCheckFailed {
		t.Fatalf("exit %d, want %d (stderr %q)", r.code, cmdutil.ExitCheckFailed, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[0], "::group::") || !strings.HasPrefix(lines[1], "::stop-commands::") {
		t.Errorf("stdout starts %q, want a group and stop-commands", lines[:2])
	}
	token := strings.TrimPrefix(lines[1], "::stop-commands::")
	var errs, warns []string
	ended := false
	for _, l := range lines[2:] {
		switch {
		case l == "::"+token+"::":
			ended = true
		case strings.HasPrefix(l, "::error "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "::warning "):
			warns = append(warns, l)
		}
	}
	if !ended || !strings.Contains(r.stdout, "::endgroup::") {
		t.Errorf("commands not resumed or group not ended:\n%s", r.stdout)
	}
	if len(errs) != 3 || len(warns) != 1 {
		t.Fatalf("%d ::error and %d ::warning, want 3 and 1:\n%s", len(errs), len(warns), r.stdout)
	}
	want := "::error file=" + filepath.Join(repoRoot, "testdata", "shapes", "green-square-1.png") + ",title=clip%3A --expect failed::"
	if !strings.HasPrefix(errs[0], want) || !strings.Contains(errs[0], `is "green square", expected red circle`) {
		t.Errorf("first annotation %q, want prefix %q", errs[0], want)
	}
	if !strings.HasPrefix(warns[0], "::warning file="+broken+",title=clip%3A unreadable image::") {
		t.Errorf("unreadable annotation %q", warns[0])
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("step summary not written: %v", err)
	}
	for _, want := range []string{"5 images: 1 passed, 3 failed a check, 1 unreadable", "| red circle | 1 |", "| orange cross | 1 |", "| failed --expect |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("step summary lacks %q:\n%s", want, md)
		}
	}
}

// Inside GitHub Actions, stdout keeps its format (jq pipelines work); only
// the step summary is added.
func TestGitHubActionsKeepsStdoutFormat(t *testing.T) {
	args, _ := ciRunArgs(t)
	summary := filepath.Join(t.TempDir(), "summary.md")
	r := runEnv(t, map[string]string{"CLIP_HOME": t.TempDir(), "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary}, args...)
	if r.code != cmdutil.ExitCheckFailed || len(records(t, r.stdout)) != 5 || strings.Contains(r.stdout, "::") {
		t.Fatalf("exit %d, stdout not 5 jsonl records:\n%s", r.code, r.stdout)
	}
	if md, err := os.ReadFile(summary); err != nil || !strings.Contains(string(md), "### clip classify") {
		t.Errorf("step summary: %v\n%s", err, md)
	}
}

func TestFormatGitHubOnlyOnClassify(t *testing.T) {
	if r := run(t, t.TempDir(), "", "classify", "--format", "githb", "--labels", "a,b", "x.png"); r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, "csv or github") {
		t.Errorf("classify --format githb: exit %d, stderr %q; want 2 listing github", r.code, r.stderr)
	}
	if r := run(t, t.TempDir(), "", "embed", "--format", "github", "x.png"); r.code != cmdutil.ExitUsage || strings.Contains(r.stderr, "github)") {
		t.Errorf("embed --format github: exit %d, stderr %q; want 2 without github among the formats", r.code, r.stderr)
	}
}

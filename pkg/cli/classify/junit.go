package classify

import (
	"encoding/xml"
	"os"
	"strconv"
	"strings"
	"time"
)

// The JUnit XML of --junit: one <testsuite> with one <testcase> per image
// (name: the input as given), a <failure> when a check failed, an <error>
// when the image could not be read. The elements and attributes are the
// subset valid under both common schemas (Ant's JUnit.xsd, which requires
// timestamp, hostname, id, package, properties, system-out and system-err,
// and Jenkins' junit-10.xsd), so Jenkins, GitLab, Azure and the JUnit
// report actions all read it.
type junitTestSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestSuite `xml:"testsuite"`
}

type junitTestSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitTestCase `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitSuiteName names the suite and is every test case's classname.
const junitSuiteName = "clip classify"

func (c *ciReport) junitSuites(elapsed time.Duration) junitTestSuites {
	errs, fails := countEntries(c.entries)
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	opts := c.opts
	suite := junitTestSuite{
		Name: junitSuiteName, Tests: len(c.entries), Failures: fails, Errors: errs,
		Time: seconds(elapsed), Timestamp: c.start.UTC().Format("2006-01-02T15:04:05"),
		Hostname: host, Package: "clip",
		Properties: []junitProperty{
			{"clip.version", opts.Factory.Version},
			{"model", opts.Factory.Globals.Model},
			{"labels", strings.Join(c.names, ",")},
			{"expect", strings.Join(opts.Expect, ",")},
			{"fail-if", strings.Join(opts.FailIf, ",")},
			{"min-score", strconv.FormatFloat(opts.MinScore, 'f', -1, 64)},
			{"max-errors", strconv.Itoa(opts.MaxErrors)},
		},
	}
	for _, e := range c.entries {
		tc := junitTestCase{Name: e.file, ClassName: junitSuiteName, Time: seconds(e.dur)}
		switch {
		case e.err != "":
			tc.Error = &junitProblem{Message: e.err, Type: "unreadable", Text: e.file + ": " + e.err}
		case e.why != "":
			tc.Failure = &junitProblem{Message: e.why, Type: e.checkKind,
				Text: "label " + e.label + ", probability " + strconv.FormatFloat(e.probability, 'f', 6, 64)}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return junitTestSuites{Name: junitSuiteName, Tests: suite.Tests, Failures: fails, Errors: errs, Time: suite.Time, Suites: []junitTestSuite{suite}}
}

// seconds is a JUnit time attribute: decimal seconds.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// writeJUnitFile writes the report whole (a temporary file renamed into
// place), so a reader never sees half a document.
func writeJUnitFile(path string, s junitTestSuites) error {
	b, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

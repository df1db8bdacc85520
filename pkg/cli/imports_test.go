package cli

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const modulePath = "github.com/clip-go/clip"

// goPackage is what the import rule needs to know about one package.
type goPackage struct {
	path    string   // import path relative to the module: pkg/cli/classify
	imports []string // the module's packages it imports, relative likewise
	isVerb  bool     // declares a NewCmd… function (see importViolations)
}

// importViolations checks that imports run one way (issue 21):
//
//   - no package under pkg/ or internal/ other than pkg/cli/... imports
//     pkg/cli/...: the CLI layer sits on top, libraries (clip, server, hub…)
//     never depend on it or on its flag parsing;
//   - no verb package imports another verb package. A verb package is a
//     package under pkg/cli that declares a NewCmd… function (one command,
//     gh style), other than pkg/cli/root, which assembles the command tree.
//     Shared helpers (cmdutil, iostreams, modelload, inputs, models/shared:
//     packages under pkg/cli without a command) may be imported by any verb,
//     and a noun command (pkg/cli/models) may import its own sub-verbs
//     (pkg/cli/models/list), the one place the tree is wired below root.
//
// Code a verb wants from another verb belongs in a library package below
// the CLI or in a shared helper.
func importViolations(pkgs []goPackage) []string {
	verb := map[string]bool{}
	for _, p := range pkgs {
		verb[p.path] = p.isVerb
	}
	inCLI := func(p string) bool { return p == "pkg/cli" || strings.HasPrefix(p, "pkg/cli/") }
	var bad []string
	for _, p := range pkgs {
		for _, imp := range p.imports {
			switch {
			case !inCLI(p.path) && inCLI(imp):
				bad = append(bad, p.path+" imports "+imp+": only pkg/cli/... may depend on the CLI layer")
			case p.isVerb && verb[imp] && path.Dir(imp) != p.path:
				bad = append(bad, p.path+" imports "+imp+": one verb package may not import another (move the shared code below pkg/cli or into a helper)")
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// modulePackages reads the non-test imports of every package under pkg/
// and internal/ (for this platform's build constraints).
func modulePackages(t *testing.T, root string) []goPackage {
	t.Helper()
	var pkgs []goPackage
	for _, top := range []string{"pkg", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(dir string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			bp, err := build.ImportDir(dir, 0)
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, dir)
			p := goPackage{path: filepath.ToSlash(rel)}
			for _, imp := range bp.Imports {
				if strings.HasPrefix(imp, modulePath+"/") {
					p.imports = append(p.imports, strings.TrimPrefix(imp, modulePath+"/"))
				}
			}
			if strings.HasPrefix(p.path, "pkg/cli/") && p.path != "pkg/cli/root" {
				p.isVerb = declaresNewCmd(t, dir, bp.GoFiles)
			}
			pkgs = append(pkgs, p)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return pkgs
}

func declaresNewCmd(t *testing.T, dir string, files []string) bool {
	t.Helper()
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "NewCmd") {
				return true
			}
		}
	}
	return false
}

// knownViolations are being removed by work in progress; an entry that no
// longer occurs fails the test, so the list only shrinks.
var knownViolations = map[string]string{}

func TestImportsRunOneWay(t *testing.T) {
	pkgs := modulePackages(t, filepath.Join("..", ".."))
	verbs := 0
	for _, p := range pkgs {
		if p.isVerb {
			verbs++
		}
	}
	if len(pkgs) < 20 || verbs < 10 {
		t.Fatalf("found %d packages, %d verbs: the walk is broken", len(pkgs), verbs)
	}
	seen := map[string]bool{}
	for _, v := range importViolations(pkgs) {
		key, _, _ := strings.Cut(v, ":")
		if _, ok := knownViolations[key]; ok {
			seen[key] = true
			continue
		}
		t.Error(v)
	}
	for key := range knownViolations {
		if !seen[key] {
			t.Errorf("%q no longer occurs: remove it from knownViolations", key)
		}
	}
}

// The rule catches each kind of violation and lets the allowed imports be.
func TestImportViolationsRule(t *testing.T) {
	pkgs := []goPackage{
		{path: "pkg/server", imports: []string{"pkg/clip", "pkg/cli/inputs"}},
		{path: "pkg/clip", imports: []string{"pkg/engine"}},
		{path: "pkg/cli/inputs"},
		{path: "pkg/cli/cmdutil"},
		{path: "pkg/cli/root", imports: []string{"pkg/cli/classify", "pkg/cli/models"}},
		{path: "pkg/cli/classify", isVerb: true, imports: []string{"pkg/cli/cmdutil", "pkg/cli/inputs", "pkg/clip"}},
		{path: "pkg/cli/models", isVerb: true, imports: []string{"pkg/cli/models/info"}},
		{path: "pkg/cli/models/info", isVerb: true, imports: []string{"pkg/cli/onnx/info"}},
		{path: "pkg/cli/onnx/info", isVerb: true},
		{path: "pkg/cli/onnx/bench", isVerb: true, imports: []string{"pkg/cli/onnx/run"}},
		{path: "pkg/cli/onnx/run", isVerb: true},
	}
	got := importViolations(pkgs)
	want := []string{"pkg/cli/models/info imports pkg/cli/onnx/info", "pkg/cli/onnx/bench imports pkg/cli/onnx/run", "pkg/server imports pkg/cli/inputs"}
	if len(got) != len(want) {
		t.Fatalf("violations:\n%s\nwant the %d of %v", strings.Join(got, "\n"), len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]+":") {
			t.Errorf("violation %d = %q, want %q", i, got[i], want[i])
		}
	}
}

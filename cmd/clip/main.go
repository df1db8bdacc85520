// Command clip is a zero-shot image classifier: it runs OpenAI's CLIP from
// an ONNX export in pure Go. All of its behaviour lives in pkg/cli.
package main

import (
	"os"

	"github.com/clip-go/clip/pkg/cli"
)

// Set by the Makefile through -ldflags "-X main.version=… -X main.commit=…
// -X main.date=…" (date: the commit's time, RFC 3339 in UTC).
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(cli.Main(version, commit, date, os.Args[1:]))
}

// Package info implements `clip models info`: a cached model's or a model
// directory's files with their sha256, the architecture its config
// declares, and the inputs and outputs of its ONNX graphs. It never
// downloads.
package info

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models/shared"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/onnx"
)

// InfoOptions are the arguments of one `clip models info`.
type InfoOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Context context.Context

	Ref     string
	Variant string
	NoGraph bool
}

// NewCmdInfo returns `clip models info`. runF replaces infoRun in tests.
func NewCmdInfo(f *cmdutil.Factory, runF func(*InfoOptions) error) *cobra.Command {
	opts := &InfoOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "info NAME|DIR",
		Short: "Describe a model: files, sha256, architecture, graph inputs and outputs",
		Long: `Describe a model in the cache (catalogue name or owner/name[@revision]) or
a model directory: its files with sizes and sha256 digests, the
architecture its config.json declares, and the inputs and outputs of its
vision and text graphs. Nothing is downloaded; a catalogue model that is not
in the cache is described from the catalogue.`,
		Example: `  clip models info clip-vit-base-patch32
  clip models info ./my-export --variant quantized --format json`,
		Args: cmdutil.ExactlyOne("NAME or DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return infoRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Variant, "variant", "fp32", "precision: fp32, fp16, quantized (int8), uint8, q4, q4f16 or bnb4")
	cmd.Flags().BoolVar(&opts.NoGraph, "no-graph", false, "skip reading the ONNX graphs (inputs/outputs)")
	return cmd
}

// Info is the JSON form of `clip models info`.
type Info struct {
	Name         string         `json:"name,omitempty"`
	ID           string         `json:"id"`
	Revision     string         `json:"revision,omitempty"`
	Commit       string         `json:"commit,omitempty"`
	Variant      hub.Variant    `json:"variant"`
	Layout       hub.Layout     `json:"layout,omitempty"`
	Installed    bool           `json:"installed"`
	Path         string         `json:"path,omitempty"`
	Description  string         `json:"description,omitempty"`
	Source       string         `json:"source,omitempty"`
	Files        []hub.FileInfo `json:"files"`
	Architecture *Architecture  `json:"architecture,omitempty"`
	Graphs       []Graph        `json:"graphs,omitempty"`
}

// Architecture is what config.json says about the network, read from the
// transformers CLIPConfig keys or OpenCLIP's (immich) model config keys.
type Architecture struct {
	ModelType     string   `json:"model_type,omitempty"`
	Architectures []string `json:"architectures,omitempty"`
	EmbedDim      int      `json:"embed_dim,omitempty"`
	ImageSize     int      `json:"image_size,omitempty"`
	PatchSize     int      `json:"patch_size,omitempty"`
	VisionWidth   int      `json:"vision_width,omitempty"`
	VisionLayers  int      `json:"vision_layers,omitempty"`
	TextWidth     int      `json:"text_width,omitempty"`
	TextLayers    int      `json:"text_layers,omitempty"`
	ContextLength int      `json:"context_length,omitempty"`
	VocabSize     int      `json:"vocab_size,omitempty"`
}

// Graph describes one ONNX graph's interface.
type Graph struct {
	Role    string  `json:"role"` // vision, text, combined
	Path    string  `json:"path"`
	Inputs  []Value `json:"inputs"`
	Outputs []Value `json:"outputs"`
	Error   string  `json:"error,omitempty"`
}

// Value is a graph input or output, as `clip onnx info` shows it.
type Value = onnx.ValueSummary

func infoRun(opts *InfoOptions) error {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	variant, err := shared.ParseVariant(opts.Variant)
	if err != nil {
		return err
	}
	if err := shared.CheckRef(opts.Ref); err != nil {
		return err
	}
	store, err := shared.NewStore(opts.Factory, true) // info never downloads
	if err != nil {
		return err
	}
	inf := &Info{Variant: variant, Files: []hub.FileInfo{}}
	lm, err := store.Resolve(ctx, opts.Ref, variant)
	var ni *hub.NotInstalledError
	switch {
	case errors.As(err, &ni):
		e, ok := hub.LookupCatalogue(strings.SplitN(opts.Ref, "@", 2)[0])
		if !ok {
			return err
		}
		inf.Name, inf.ID, inf.Revision, inf.Layout = e.Name, e.Repo, e.Revision, e.Layout
		inf.Description, inf.Source = e.Description, e.Source
		if req, opt, ferr := e.Files(variant); ferr == nil {
			for _, p := range append(req, opt...) {
				inf.Files = append(inf.Files, hub.FileInfo{Path: p, Size: -1})
			}
		}
	case err != nil:
		return err
	default:
		if err := store.LocalSHA256(ctx, lm); err != nil {
			return err
		}
		inf.Name, inf.ID, inf.Revision, inf.Commit, inf.Layout = lm.Name, lm.ID, lm.Revision, lm.Commit, lm.Layout
		inf.Installed, inf.Path, inf.Files = true, lm.Dir, lm.Files
		if e, ok := hub.LookupCatalogue(lm.ID); ok {
			inf.Description, inf.Source = e.Description, e.Source
		}
		if lm.ConfigPath != "" {
			a, err := readArchitecture(lm.ConfigPath)
			if err != nil {
				return err
			}
			inf.Architecture = a
		}
		if !opts.NoGraph {
			for _, g := range []struct{ role, path string }{{"vision", lm.VisionPath}, {"text", lm.TextPath}} {
				if g.path != "" {
					inf.Graphs = append(inf.Graphs, describeGraph(g.role, g.path))
				}
			}
		}
	}
	switch format {
	case cmdutil.FormatJSON:
		return shared.WriteJSON(opts.IO.Out, inf)
	case cmdutil.FormatJSONL:
		return shared.WriteJSONL(opts.IO.Out, []*Info{inf})
	case cmdutil.FormatCSV:
		var recs [][]string
		for _, f := range inf.Files {
			recs = append(recs, []string{f.Path, fmt.Sprint(f.Size), f.SHA256})
		}
		return shared.WriteCSV(opts.IO.Out, []string{"path", "size", "sha256"}, recs)
	}
	return writeTable(opts.IO, inf)
}

func writeTable(io *iostreams.IOStreams, inf *Info) error {
	w := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s:\t%s\n", k, v)
		}
	}
	kv("name", inf.Name)
	kv("id", inf.ID)
	kv("revision", inf.Revision)
	kv("commit", inf.Commit)
	kv("variant", string(inf.Variant))
	kv("layout", string(inf.Layout))
	kv("description", inf.Description)
	kv("source", inf.Source)
	if inf.Installed {
		kv("path", inf.Path)
	} else {
		kv("installed", "no (clip models pull "+inf.Name+" --variant "+string(inf.Variant)+")")
	}
	if a := inf.Architecture; a != nil {
		var parts []string
		add := func(k string, v int) {
			if v != 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, v))
			}
		}
		add("embed", a.EmbedDim)
		add("image", a.ImageSize)
		add("patch", a.PatchSize)
		add("vision width", a.VisionWidth)
		add("vision layers", a.VisionLayers)
		add("text width", a.TextWidth)
		add("text layers", a.TextLayers)
		add("context", a.ContextLength)
		add("vocab", a.VocabSize)
		kind := a.ModelType
		if len(a.Architectures) > 0 {
			kind = strings.Join(a.Architectures, ",")
		}
		kv("architecture", strings.TrimSpace(kind+" "+strings.Join(parts, ", ")))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(io.Out)
	w = tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FILE\tSIZE\tSHA256")
	for _, f := range inf.Files {
		size, sum := shared.HumanBytes(f.Size), f.SHA256
		if sum == "" {
			sum = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", f.Path, size, sum)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, g := range inf.Graphs {
		fmt.Fprintf(io.Out, "\n%s graph %s\n", g.Role, g.Path)
		if g.Error != "" {
			fmt.Fprintf(io.Out, "  cannot read: %s\n", g.Error)
			continue
		}
		w = tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		for _, v := range g.Inputs {
			fmt.Fprintf(w, "  input\t%s\t%s\t%s\n", v.Name, v.DType, onnx.ShapeString(v.Shape))
		}
		for _, v := range g.Outputs {
			fmt.Fprintf(w, "  output\t%s\t%s\t%s\n", v.Name, v.DType, onnx.ShapeString(v.Shape))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// readArchitecture reads the keys clip cares about from config.json.
func readArchitecture(path string) (*Architecture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
		ProjectionDim int      `json:"projection_dim"`
		VisionConfig  struct {
			ImageSize  int `json:"image_size"`
			PatchSize  int `json:"patch_size"`
			HiddenSize int `json:"hidden_size"`
			Layers     int `json:"num_hidden_layers"`
		} `json:"vision_config"`
		TextConfig struct {
			HiddenSize int `json:"hidden_size"`
			Layers     int `json:"num_hidden_layers"`
			MaxPos     int `json:"max_position_embeddings"`
			VocabSize  int `json:"vocab_size"`
		} `json:"text_config"`
		// OpenCLIP's model config, as immich ships it.
		EmbedDim  int `json:"embed_dim"`
		VisionCfg struct {
			ImageSize int `json:"image_size"`
			PatchSize int `json:"patch_size"`
			Width     int `json:"width"`
			Layers    int `json:"layers"`
		} `json:"vision_cfg"`
		TextCfg struct {
			ContextLength int `json:"context_length"`
			VocabSize     int `json:"vocab_size"`
			Width         int `json:"width"`
			Layers        int `json:"layers"`
		} `json:"text_cfg"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %v", path, err)
	}
	first := func(a, b int) int {
		if a != 0 {
			return a
		}
		return b
	}
	return &Architecture{
		ModelType:     c.ModelType,
		Architectures: c.Architectures,
		EmbedDim:      first(c.ProjectionDim, c.EmbedDim),
		ImageSize:     first(c.VisionConfig.ImageSize, c.VisionCfg.ImageSize),
		PatchSize:     first(c.VisionConfig.PatchSize, c.VisionCfg.PatchSize),
		VisionWidth:   first(c.VisionConfig.HiddenSize, c.VisionCfg.Width),
		VisionLayers:  first(c.VisionConfig.Layers, c.VisionCfg.Layers),
		TextWidth:     first(c.TextConfig.HiddenSize, c.TextCfg.Width),
		TextLayers:    first(c.TextConfig.Layers, c.TextCfg.Layers),
		ContextLength: first(c.TextConfig.MaxPos, c.TextCfg.ContextLength),
		VocabSize:     first(c.TextConfig.VocabSize, c.TextCfg.VocabSize),
	}, nil
}

// describeGraph reads a graph's declared inputs and outputs. A graph that
// cannot be read is reported, not fatal: info should still show the files.
func describeGraph(role, path string) Graph {
	g := Graph{Role: role, Path: path, Inputs: []Value{}, Outputs: []Value{}}
	m, err := onnx.Load(path)
	if err != nil {
		g.Error = err.Error()
		return g
	}
	defer m.Close()
	if m.Graph == nil {
		g.Error = "model has no graph"
		return g
	}
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializers {
		inits[t.Name] = true
	}
	for _, vi := range m.Graph.Inputs {
		if !inits[vi.Name] { // older exporters list initializers as inputs too
			g.Inputs = append(g.Inputs, onnx.SummarizeValue(vi))
		}
	}
	for _, vi := range m.Graph.Outputs {
		g.Outputs = append(g.Outputs, onnx.SummarizeValue(vi))
	}
	return g
}

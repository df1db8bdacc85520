// Package preprocess implements `clip preprocess`: write the exact input
// tensor a model sees for an image, as .npy, for users comparing clip with
// a Python pipeline.
package preprocess

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/npy"
)

// PreprocessOptions are the flags and arguments of one `clip preprocess`.
type PreprocessOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Image         string
	ModelDir      string // from the global --model; the default model when not given
	Out           string // .npy path, "-" for stdout
	NoExifRotate  bool
	CropRounding  string // "", "hf" or "openai"; "" keeps the config's own
	MaxMegapixels float64
	ExactDecode   bool
}

// NewCmdPreprocess returns `clip preprocess`. runF replaces preprocessRun in
// tests that only check flag handling.
func NewCmdPreprocess(f *cmdutil.Factory, runF func(*PreprocessOptions) error) *cobra.Command {
	opts := &PreprocessOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "preprocess IMAGE [--model DIR] --out X.npy",
		Short: "Write the exact input tensor the model sees (.npy)",
		Long: `Decode IMAGE and preprocess it with the model's own recipe
(preprocessor_config.json or preprocess_cfg.json in the model directory),
writing the float32 [1,3,H,W] tensor the vision model receives. --model is
a directory, a catalogue name or a Hugging Face repo id (default:
` + modelload.DefaultModel + `); only the preprocessing config is downloaded.

Decoding follows Pillow: convert("RGB") drops alpha (transparent pixels keep
their stored colour), grayscale becomes R=G=B, 16-bit gray is clipped at 255.
A JPEG's EXIF orientation is applied unless --no-exif-rotate. Resizing is
Pillow's bicubic/bilinear, bit for bit. A JPEG at least twice the resize
target (S) on both sides is first decoded at 1/2, 1/4 or 1/8 scale in the
DCT domain, exactly as Pillow's im.draft("RGB", (2S, 2S)) does;
--exact-decode decodes every pixel, as plain Pillow.`,
		Example: `  clip preprocess cat.jpg --model ./clip-vit-base-patch32 --out cat.npy
  python3 -c "import numpy; print(numpy.load('cat.npy').shape)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if f.Globals != nil {
				opts.ModelDir = f.Globals.Model
			}
			if opts.ModelDir == "" {
				opts.ModelDir = modelload.DefaultModel
			}
			if opts.Out == "" {
				return cmdutil.UsageErrorf("--out is required (a .npy path, or - for stdout)")
			}
			if err := cmdutil.CheckOutputFile("--out", opts.Out); err != nil {
				return err
			}
			if opts.CropRounding != "" {
				if _, err := imageproc.ParseCropRounding(opts.CropRounding); err != nil {
					return cmdutil.UsageErrorf("--crop-rounding: %v", err)
				}
			}
			if format := f.Globals.Format; format != "" && format != cmdutil.FormatTable && opts.Out == "-" {
				return cmdutil.UsageErrorf("--format %s and --out - both want stdout: give --out a file", format)
			}
			if opts.MaxMegapixels < 0 {
				return cmdutil.UsageErrorf("--max-megapixels must be positive, not %g", opts.MaxMegapixels)
			}
			if runF != nil {
				return runF(opts)
			}
			dir, err := preprocessDir(cmd.Context(), f, opts.ModelDir)
			if err != nil {
				return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
			}
			opts.ModelDir = dir
			return preprocessRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Out, "out", "o", "", "output .npy file (- for stdout)")
	fl.BoolVar(&opts.NoExifRotate, "no-exif-rotate", false, "ignore the EXIF orientation of JPEGs")
	fl.StringVar(&opts.CropRounding, "crop-rounding", "", "center-crop rounding: hf ((H-crop)//2) or openai (round, as torchvision); default: the config's (hf for preprocessor_config.json)")
	fl.Float64Var(&opts.MaxMegapixels, "max-megapixels", imageproc.DefaultMaxMegapixels, "refuse images whose header claims more pixels than this (millions)")
	fl.BoolVar(&opts.ExactDecode, "exact-decode", false, modelload.ExactDecodeUsage)
	return cmd
}

// preprocessDir finds the directory holding a model's preprocessing
// config: a local directory as given (or its visual/ for immich's layout),
// else the catalogue name or repo id resolved through the model store.
func preprocessDir(ctx context.Context, f *cmdutil.Factory, model string) (string, error) {
	if st, err := os.Stat(model); err == nil && st.IsDir() {
		if files, err := clip.FilesInDir(model, ""); err == nil {
			return files.PreprocessDir, nil
		}
		return model, nil
	}
	local, err := modelload.ResolvePart(ctx, f, model, hub.FP32, hub.PreprocessorFiles)
	if err != nil {
		return "", err
	}
	if local.PreprocessorPath != "" {
		return filepath.Dir(local.PreprocessorPath), nil
	}
	return local.Dir, nil
}

func preprocessRun(opts *PreprocessOptions) error {
	cfg, err := imageproc.LoadConfig(opts.ModelDir)
	if err != nil {
		return cmdutil.UsageErrorf("%v", err)
	}
	if opts.CropRounding != "" {
		cfg.CropRounding, _ = imageproc.ParseCropRounding(opts.CropRounding)
	}
	dopt := imageproc.DecodeOptions{
		NoEXIFRotate:  opts.NoExifRotate,
		MaxMegapixels: opts.MaxMegapixels,
	}
	if !opts.ExactDecode {
		dopt.DraftSize = cfg.DraftSize()
	}
	img, err := imageproc.Decode(opts.Image, dopt)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitInputErrors, err)
	}
	b := img.Bounds()
	h, w := cfg.OutputSize(b.Dx(), b.Dy())
	data := make([]float32, 3*h*w)
	if err := cfg.Preprocess(img, data); err != nil {
		return cmdutil.NewExitError(cmdutil.ExitInputErrors, fmt.Errorf("%s: %w", opts.Image, err))
	}
	arr, err := npy.New([]int64{1, 3, int64(h), int64(w)}, data)
	if err != nil {
		return err
	}
	if opts.Out == "-" {
		bw := bufio.NewWriter(opts.IO.Out)
		if err := npy.Write(bw, arr); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	} else if err := npy.WriteFile(opts.Out, arr); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return cmdutil.UsageErrorf("--out: %v", err)
		}
		return err
	}
	var globals cmdutil.GlobalOptions
	if opts.Factory != nil && opts.Factory.Globals != nil {
		globals = *opts.Factory.Globals
	}
	steps := []string{}
	if cfg.DoResize {
		rw, rh := cfg.ResizedSize(b.Dx(), b.Dy())
		steps = append(steps, fmt.Sprintf("resize %dx%d (%s)", rw, rh, cfg.Resample))
	}
	if cfg.DoCenterCrop {
		steps = append(steps, fmt.Sprintf("crop %dx%d (%s rounding)", w, h, cfg.CropRounding))
	}
	if format := globals.Format; format != "" && format != cmdutil.FormatTable {
		return cmdutil.WriteFields(opts.IO.Out, format, []cmdutil.Field{
			{Key: "image", Value: opts.Image}, {Key: "width", Value: b.Dx()}, {Key: "height", Value: b.Dy()},
			{Key: "steps", Value: steps}, {Key: "shape", Value: []int{1, 3, h, w}}, {Key: "dtype", Value: "float32"},
			{Key: "out", Value: opts.Out}, {Key: "config", Value: cfg.Source},
		})
	}
	if !globals.Quiet {
		arrow := ""
		for _, s := range steps {
			arrow += " → " + s
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s: %dx%d%s → float32 [1,3,%d,%d] written to %s (config %s)\n",
			opts.Image, b.Dx(), b.Dy(), arrow, h, w, opts.Out, cfg.Source)
	}
	return nil
}

package modelload

import "github.com/spf13/pflag"

// ImageFlags are the flags of every verb that reads images and embeds them
// (classify, embed, index): which model variant, how many images per batch
// and how many may fail to read, and how they are decoded. Embedded in a
// verb's options, its fields read as the verb's own.
type ImageFlags struct {
	Variant       string
	BatchSize     int
	MaxErrors     int
	NoExifRotate  bool
	MaxMegapixels float64
	ExactDecode   bool
}

// Register defines the flags on fl, with the defaults every such verb uses.
func (o *ImageFlags) Register(fl *pflag.FlagSet) {
	fl.StringVar(&o.Variant, "variant", "fp32", "model variant: fp32|fp16|quantized|uint8|q4|q4f16|bnb4")
	fl.IntVarP(&o.BatchSize, "batch-size", "b", 8, "images per inference batch")
	fl.IntVar(&o.MaxErrors, "max-errors", 0, "unreadable inputs tolerated before exiting 3")
	fl.BoolVar(&o.NoExifRotate, "no-exif-rotate", false, "ignore EXIF orientation in JPEGs")
	fl.Float64Var(&o.MaxMegapixels, "max-megapixels", 100, "refuse images larger than this before decoding")
	fl.BoolVar(&o.ExactDecode, "exact-decode", false, ExactDecodeUsage)
}

package imageproc

import (
	"bytes"
	"errors"
	"image"
)

// DecodeHeader reads an image file's header only: its format ("jpeg",
// "png", …) and its size and colour model, as DecodeBytes would find
// them, without decoding a pixel. Callers use it to budget the memory a
// decode will take before starting it.
func DecodeHeader(b []byte) (image.Config, string, error) {
	for i := range formats {
		if ft := &formats[i]; ft.magic(b) {
			cfg, err := guard(ft.name, func() (image.Config, error) { return ft.decodeConfig(bytes.NewReader(b)) })
			return cfg, ft.name, err
		}
	}
	return image.Config{}, "", errors.New("not a supported image")
}

package clip

import (
	"fmt"
	"sort"
	"strings"
)

// Built-in prompt template sets, from the prompt-engineering study that
// accompanies the CLIP paper (openai/CLIP, notebooks/
// Prompt_Engineering_for_ImageNet.ipynb, MIT licence): imagenet80 is the
// full ensemble, imagenet7 the subset the notebook found by sequential
// forward selection, and none uses the label text as is.
var templateSets = map[string][]string{
	"none":      {"{}"},
	"imagenet7": {"itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.", "a {} in a video game.", "art of the {}.", "a photo of the small {}."},
	"imagenet80": {
		"a bad photo of a {}.",
		"a photo of many {}.",
		"a sculpture of a {}.",
		"a photo of the hard to see {}.",
		"a low resolution photo of the {}.",
		"a rendering of a {}.",
		"graffiti of a {}.",
		"a bad photo of the {}.",
		"a cropped photo of the {}.",
		"a tattoo of a {}.",
		"the embroidered {}.",
		"a photo of a hard to see {}.",
		"a bright photo of a {}.",
		"a photo of a clean {}.",
		"a photo of a dirty {}.",
		"a dark photo of the {}.",
		"a drawing of a {}.",
		"a photo of my {}.",
		"the plastic {}.",
		"a photo of the cool {}.",
		"a close-up photo of a {}.",
		"a black and white photo of the {}.",
		"a painting of the {}.",
		"a painting of a {}.",
		"a pixelated photo of the {}.",
		"a sculpture of the {}.",
		"a bright photo of the {}.",
		"a cropped photo of a {}.",
		"a plastic {}.",
		"a photo of the dirty {}.",
		"a jpeg corrupted photo of a {}.",
		"a blurry photo of the {}.",
		"a photo of the {}.",
		"a good photo of the {}.",
		"a rendering of the {}.",
		"a {} in a video game.",
		"a photo of one {}.",
		"a doodle of a {}.",
		"a close-up photo of the {}.",
		"a photo of a {}.",
		"the origami {}.",
		"the {} in a video game.",
		"a sketch of a {}.",
		"a doodle of the {}.",
		"a origami {}.",
		"a low resolution photo of a {}.",
		"the toy {}.",
		"a rendition of the {}.",
		"a photo of the clean {}.",
		"a photo of a large {}.",
		"a rendition of a {}.",
		"a photo of a nice {}.",
		"a photo of a weird {}.",
		"a blurry photo of a {}.",
		"a cartoon {}.",
		"art of a {}.",
		"a sketch of the {}.",
		"a embroidered {}.",
		"a pixelated photo of a {}.",
		"itap of the {}.",
		"a jpeg corrupted photo of the {}.",
		"a good photo of a {}.",
		"a plushie {}.",
		"a photo of the nice {}.",
		"a photo of the small {}.",
		"a photo of the weird {}.",
		"the cartoon {}.",
		"art of the {}.",
		"a drawing of the {}.",
		"a photo of the large {}.",
		"a black and white photo of a {}.",
		"the plushie {}.",
		"a dark photo of a {}.",
		"itap of a {}.",
		"graffiti of the {}.",
		"a toy {}.",
		"itap of my {}.",
		"a photo of a cool {}.",
		"a photo of a small {}.",
		"a tattoo of the {}.",
	},
}

// DefaultTemplate is the prompt used when no template is given.
const DefaultTemplate = "a photo of a {}."

// TemplateSet returns a copy of a built-in template set by name.
func TemplateSet(name string) ([]string, error) {
	t, ok := templateSets[name]
	if !ok {
		return nil, fmt.Errorf("unknown template set %q (have %s)", name, strings.Join(TemplateSetNames(), ", "))
	}
	return append([]string(nil), t...), nil
}

// TemplateSetNames lists the built-in template sets.
func TemplateSetNames() []string {
	names := make([]string, 0, len(templateSets))
	for n := range templateSets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FillTemplate puts label into template's "{}" placeholder; a template
// without one is treated as a prefix, "template label".
func FillTemplate(template, label string) string {
	if strings.Contains(template, "{}") {
		return strings.ReplaceAll(template, "{}", label)
	}
	return strings.TrimSpace(template + " " + label)
}

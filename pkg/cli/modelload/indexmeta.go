package modelload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/clip-go/clip/pkg/index"
)

// IndexMeta describes the model for an image index: its id and revision,
// the sha256 of each of its files, and a fingerprint of everything that
// changes an image embedding (file hashes, variant, preprocessing, decode
// mode) but not where the model lives, so a model directory can move.
func (m *Model) IndexMeta(ctx context.Context) (index.Meta, error) {
	if err := m.Store.LocalSHA256(ctx, m.Local); err != nil {
		return index.Meta{}, err
	}
	sums := map[string]string{}
	for _, f := range m.Local.Files {
		sums[f.Path] = f.SHA256
	}
	paths := make([]string, 0, len(sums))
	for p := range sums {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	sumsJSON, err := json.Marshal(sums)
	if err != nil {
		return index.Meta{}, err
	}
	pre, err := json.Marshal(map[string]any{"image": m.Preprocess, "decode": m.DecodeMode()})
	if err != nil {
		return index.Meta{}, err
	}
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s %s\n", p, sums[p])
	}
	fmt.Fprintf(h, "variant %s\npreprocess %s\n", m.Local.Variant, pre)
	return index.Meta{
		ModelID:     m.Local.ID,
		Revision:    m.Local.Revision,
		Fingerprint: hex.EncodeToString(h.Sum(nil)),
		ModelSHA256: string(sumsJSON),
		Variant:     string(m.Local.Variant),
		Preprocess:  string(pre),
	}, nil
}

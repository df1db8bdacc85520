package models_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// fixtureRepo serves a committed tiny model's files as the catalogue
// entry name's repository, at the entry's revision.
func fixtureRepo(t *testing.T, name, fixture string, extra map[string][]byte) (*hubtest.Repo, hub.Entry) {
	t.Helper()
	e, ok := hub.LookupCatalogue(name)
	if !ok {
		t.Fatalf("%s is not in the catalogue", name)
	}
	root := filepath.Join("..", "..", "..", "testdata", "models", fixture)
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = needFile(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range extra {
		files[p] = b
	}
	commit := e.Revision
	if len(commit) != 40 {
		commit = "5d1c0b9a8f7e6d5c4b3a29180f7e6d5c4b3a2918"
	}
	return &hubtest.Repo{ID: e.Repo, Commit: commit, Files: files}, e
}

func pullAndLoad(t *testing.T, e *env, name string) (pulled struct{ Path string }, m *clip.Model) {
	t.Helper()
	r := e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatJSON}, "pull", name)
	if r.err != nil {
		t.Fatalf("pull %s: %v\n%s", name, r.err, r.errOut)
	}
	if err := json.Unmarshal([]byte(r.out), &pulled); err != nil {
		t.Fatalf("pull output %q: %v", r.out, err)
	}
	files, err := clip.FilesInDir(pulled.Path, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err = clip.Load(context.Background(), files, clip.Options{Threads: 1})
	if err != nil {
		t.Fatalf("loading the pulled %s: %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return pulled, m
}

// The SigLIP entry fetches the combined onnx/model.onnx alone (it holds
// logit_scale and logit_bias, and runs both towers), not the split towers;
// the pulled directory loads as SigLIP with sigmoid scoring.
func TestPullSiglipEntry(t *testing.T) {
	repo, _ := fixtureRepo(t, "siglip-base-patch16-224", "tiny-siglip", nil)
	e := newEnv(t, repo)
	_, m := pullAndLoad(t, e, "siglip-base-patch16-224")
	if m.Family() != clip.FamilySigLIP || !m.Scoring().Sigmoid {
		t.Errorf("family %s, scoring %+v; want siglip with sigmoid scoring", m.Family(), m.Scoring())
	}
	for _, f := range []string{"onnx/vision_model.onnx", "onnx/text_model.onnx"} {
		if n := e.srv.Count("GET", "resolve", f) + e.srv.Count("GET", "cdn", f); n != 0 {
			t.Errorf("%s downloaded %d times; the combined graph has its weights", f, n)
		}
	}
	if n := e.srv.Count("GET", "resolve", "onnx/model.onnx") + e.srv.Count("GET", "cdn", "onnx/model.onnx"); n != 1 {
		t.Errorf("onnx/model.onnx downloaded %d times, want once", n)
	}
	// The cached model is complete by the store's own checks.
	if r := e.run(cmdutil.GlobalOptions{Offline: true}, "verify", "siglip-base-patch16-224"); r.err != nil {
		t.Errorf("verify: %v\n%s", r.err, r.errOut)
	}
}

// The M-CLIP entries come from the listing in immich's layout: the
// external-data files beside textual/model.onnx are fetched with it (immich
// keeps XLM-R-Large's weights one file per tensor), other runtimes' files
// (model.armnn) and the slow tokenizer's sentencepiece.bpe.model are not;
// the directory loads as M-CLIP.
func TestPullMCLIPEntry(t *testing.T) {
	extra := map[string][]byte{
		"textual/onnx__MatMul_2679":                                    []byte("external weights"),
		"textual/transformer.encoder.layer.20.intermediate.dense.bias": []byte("more weights"),
		"textual/sentencepiece.bpe.model":                              []byte("slow tokenizer"),
		"visual/model.armnn":                                           []byte("armnn graph"),
	}
	repo, _ := fixtureRepo(t, "xlm-roberta-large-vit-b-32", "tiny-mclip", extra)
	e := newEnv(t, repo)
	pulled, m := pullAndLoad(t, e, "xlm-roberta-large-vit-b-32")
	if m.Family() != clip.FamilyMCLIP {
		t.Errorf("family %s, want m-clip", m.Family())
	}
	for f, want := range map[string]bool{
		"textual/onnx__MatMul_2679": true, "textual/transformer.encoder.layer.20.intermediate.dense.bias": true,
		"textual/sentencepiece.bpe.model": false, "visual/model.armnn": false, "textual/tokenizer.json": true,
	} {
		_, err := os.Stat(filepath.Join(pulled.Path, filepath.FromSlash(f)))
		if got := err == nil; got != want {
			t.Errorf("%s pulled: %v, want %v", f, got, want)
		}
	}

	// list shows each entry's family, languages and input size.
	r := e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "list")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"FAMILY", "LANGUAGES", "INPUT", "siglip-base-patch16-224  siglip  English", "m-clip  multilingual (XLM-R)  240"} {
		if !strings.Contains(strings.Join(strings.Fields(r.out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("models list lacks %q:\n%s", want, r.out)
		}
	}
}

// The NLLB-CLIP entries come from the listing in immich's layout, with the
// external-data files of the large text towers (named by tensor or by
// UUID) and without the slow tokenizer's sentencepiece.bpe.model; the
// pulled directory loads as nllb-siglip. immich's own config.json has no
// trained logit values, so the model embeds but reports why it cannot
// score; list shows the entries' family, languages and 384 px input.
func TestPullNLLBEntry(t *testing.T) {
	immichConfig := []byte(`{"embed_dim": 32, "custom_text": true, "init_logit_bias": -10, "vision_cfg": {"image_size": 32},
		"text_cfg": {"hf_model_name": "facebook/nllb-200-distilled-600M", "hf_tokenizer_name": "facebook/nllb-200-distilled-600M",
		"hf_proj_type": "linear", "hf_pooler_type": "cls_pooler"}}`)
	extra := map[string][]byte{
		"textual/onnx__MatMul_3010":                    []byte("external weights"),
		"textual/1f0e3dad-9990-4c2a-8d5b-6f1e0c2b7a11": []byte("more weights"),
		"textual/sentencepiece.bpe.model":              []byte("slow tokenizer"),
		"visual/model.rknn":                            []byte("rknn graph"),
		"config.json":                                  immichConfig,
	}
	for _, name := range []string{"nllb-clip-base-siglip-v1", "nllb-clip-large-siglip-mrl"} {
		t.Run(name, func(t *testing.T) {
			repo, _ := fixtureRepo(t, name, "tiny-nllb", extra)
			e := newEnv(t, repo)
			pulled, m := pullAndLoad(t, e, name)
			if m.Family() != clip.FamilyNLLB || !m.Scoring().Sigmoid || !strings.Contains(m.Scoring().Missing, "logit_bias") {
				t.Errorf("family %s, scoring %+v; want nllb-siglip, sigmoid, the missing values explained", m.Family(), m.Scoring())
			}
			if _, err := m.EncodeTexts(context.Background(), []string{"красный круг"}); err != nil {
				t.Errorf("embedding a text: %v", err)
			}
			for f, want := range map[string]bool{
				"textual/onnx__MatMul_3010": true, "textual/1f0e3dad-9990-4c2a-8d5b-6f1e0c2b7a11": true,
				"textual/sentencepiece.bpe.model": false, "visual/model.rknn": false, "textual/tokenizer.json": true,
				"textual/special_tokens_map.json": true,
			} {
				_, err := os.Stat(filepath.Join(pulled.Path, filepath.FromSlash(f)))
				if got := err == nil; got != want {
					t.Errorf("%s pulled: %v, want %v", f, got, want)
				}
			}
			r := e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "list")
			if r.err != nil {
				t.Fatal(r.err)
			}
			want := name + " nllb-siglip multilingual (NLLB, 201 languages) 384"
			if !strings.Contains(strings.Join(strings.Fields(r.out), " "), want) {
				t.Errorf("models list lacks %q:\n%s", want, r.out)
			}
			r = e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatCSV}, "list")
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !strings.Contains(r.out, ",path,family,languages,input_size\n") ||
				!strings.Contains(r.out, `,nllb-siglip,"multilingual (NLLB, 201 languages)",384`) {
				t.Errorf("models list --format csv lacks the family, languages and input size columns:\n%s", r.out)
			}
		})
	}
}

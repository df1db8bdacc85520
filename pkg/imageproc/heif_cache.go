package imageproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// HEIFDecoders are the WebAssembly HEIF (libheif) and AVIF (libavif)
// decoders, compiled on the first file of their kind. Compiling libheif
// takes 0.5–2.5 s of CPU; with a cache directory the compiled code is kept
// there, so that later processes load it instead (in milliseconds). Pass
// one HEIFDecoders to every DecodeOptions of a process.
type HEIFDecoders struct {
	heif, avif *wasmCodec
}

// NewHEIFDecoders returns decoders that cache their compiled code in
// cacheDir ("" for none). The directory is made on first use; when it
// cannot be written, or holds a damaged entry, the decoders compile as if
// there were no cache. Several processes may share it.
func NewHEIFDecoders(cacheDir string) *HEIFDecoders {
	return &HEIFDecoders{
		heif: &wasmCodec{name: "libheif", gz: &heifWasmGz, cacheDir: cacheDir, patch: heifPlanesPatch},
		avif: &wasmCodec{name: "libavif", gz: &avifWasmGz, cacheDir: cacheDir, patch: avifPlanesPatch},
	}
}

// processHEIFDecoders serve DecodeOptions without HEIFDecoders: compiled
// once per process, cached nowhere.
var processHEIFDecoders = NewHEIFDecoders("")

func (o DecodeOptions) heifDecoders() *HEIFDecoders {
	if o.HEIF != nil {
		return o.HEIF
	}
	return processHEIFDecoders
}

// compileWasm compiles code into a new runtime (with WASI), through the
// cache in dir when there is one usable; cached says whether the compiled
// code came from the cache.
func compileWasm(ctx context.Context, name string, code []byte, dir string) (rt wazero.Runtime, mod wazero.CompiledModule, cached bool, err error) {
	if dir != "" {
		if rt, mod, cached, err := compileCached(ctx, name, code, dir); err == nil {
			return rt, mod, cached, nil
		}
	}
	rt, mod, err = compileWith(ctx, code, wazero.NewRuntimeConfig())
	return rt, mod, false, err
}

// compileWith compiles code into a new runtime made with cfg.
func compileWith(ctx context.Context, code []byte, cfg wazero.RuntimeConfig) (wazero.Runtime, wazero.CompiledModule, error) {
	// Not WithCloseOnContextDone: it makes the compiled code leave to Go
	// at every function entry and loop back-edge to check the context
	// (libheif ran 10x slower), and decodes are not cancelled.
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, nil, err
	}
	mod, err := rt.CompileModule(ctx, code)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, nil, err
	}
	return rt, mod, nil
}

// The cache is one file per module and architecture,
// <name>-<sha256 of the module as compiled, patches included>-<GOARCH>.wasmcache, holding what
// wazero's own file cache wrote while compiling, sealed with a SHA-256:
//
//	"clip-wasmcache\x01" | sha256(payload) | payload
//	payload: repeated uint32 name length | name | uint64 size | bytes
//
// wazero's cache directory is never shared: each compile gets a private
// one inside dir, filled from a verified file, so a damaged or foreign
// entry is never handed to wazero (which checks only a CRC of the code, not
// the offsets it jumps to), and another process only ever sees complete
// files (written aside, then renamed). A file wazero rejects (another
// wazero version, another CPU) is replaced after a fresh compile.
const wasmCacheMagic = "clip-wasmcache\x01"

func wasmCachePath(dir, name string, code []byte) string {
	sum := sha256.Sum256(code)
	return filepath.Join(dir, fmt.Sprintf("%s-%x-%s.wasmcache", name, sum[:8], runtime.GOARCH))
}

func compileCached(ctx context.Context, name string, code []byte, dir string) (wazero.Runtime, wazero.CompiledModule, bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, false, err
	}
	removeStaleCompileDirs(dir)
	work, err := os.MkdirTemp(dir, "compile-*")
	if err != nil {
		return nil, nil, false, err // not writable: no cache
	}
	defer os.RemoveAll(work)
	path := wasmCachePath(dir, name, code)
	had, _ := readWasmCache(path) // missing or damaged: compile afresh
	if err := writeWasmCacheFiles(work, had); err != nil {
		return nil, nil, false, err
	}
	before := statWasmCacheFiles(work)
	rt, mod, err := compileInto(ctx, code, work)
	if err != nil && len(had) > 0 {
		// wazero refused an entry it wrote itself: start from empty.
		if err := os.RemoveAll(work); err != nil {
			return nil, nil, false, err
		}
		before = nil
		rt, mod, err = compileInto(ctx, code, work)
	}
	if err != nil {
		return nil, nil, false, err
	}
	// wazero writes an entry (a new file) only when it compiled.
	after := statWasmCacheFiles(work)
	wrote := len(after) != len(before)
	for name, st := range after {
		if old, ok := before[name]; !ok || !os.SameFile(old, st) {
			wrote = true
		}
	}
	if wrote {
		if now, err := readWasmCacheFiles(work); err == nil {
			_ = writeWasmCache(path, now) // a cache that cannot be written is no cache
		}
	}
	return rt, mod, len(before) > 0 && !wrote, nil
}

// staleCompileAge is how old a compile directory must be to be taken for
// one a killed process left behind: a compile takes seconds.
const staleCompileAge = time.Hour

func removeStaleCompileDirs(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, "compile-*"))
	for _, p := range stale {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > staleCompileAge {
			_ = os.RemoveAll(p)
		}
	}
}

// statWasmCacheFiles maps the regular files under dir to their FileInfo.
func statWasmCacheFiles(dir string) map[string]fs.FileInfo {
	m := map[string]fs.FileInfo{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if st, err := os.Stat(p); err == nil {
				m[p] = st
			}
		}
		return nil
	})
	return m
}

// compileInto compiles with wazero's file cache in dir.
func compileInto(ctx context.Context, code []byte, dir string) (wazero.Runtime, wazero.CompiledModule, error) {
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, nil, err
	}
	rt, mod, err := compileWith(ctx, code, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	if err != nil {
		_ = cache.Close(ctx)
		return nil, nil, err
	}
	return rt, mod, nil
}

// wasmCacheFile is one file of wazero's cache directory.
type wasmCacheFile struct {
	name string // slash-separated, relative to the directory
	data []byte
}

func readWasmCacheFiles(dir string) ([]wasmCacheFile, error) {
	var files []wasmCacheFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files = append(files, wasmCacheFile{filepath.ToSlash(rel), data})
		return err
	})
	slices.SortFunc(files, func(a, b wasmCacheFile) int { return strings.Compare(a.name, b.name) })
	return files, err
}

func writeWasmCacheFiles(dir string, files []wasmCacheFile) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var errWasmCacheDamaged = errors.New("damaged WebAssembly cache file")

// readWasmCache returns the files sealed in path; an error when it is
// missing or fails its checksum or layout.
func readWasmCache(path string) ([]wasmCacheFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head := len(wasmCacheMagic) + sha256.Size
	if len(b) < head || string(b[:len(wasmCacheMagic)]) != wasmCacheMagic {
		return nil, errWasmCacheDamaged
	}
	payload := b[head:]
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], b[len(wasmCacheMagic):head]) {
		return nil, errWasmCacheDamaged
	}
	var files []wasmCacheFile
	for len(payload) > 0 {
		if len(payload) < 4 {
			return nil, errWasmCacheDamaged
		}
		n := int(binary.LittleEndian.Uint32(payload))
		if len(payload) < 4+n+8 {
			return nil, errWasmCacheDamaged
		}
		name := string(payload[4 : 4+n])
		size := binary.LittleEndian.Uint64(payload[4+n:])
		payload = payload[4+n+8:]
		if uint64(len(payload)) < size || !filepath.IsLocal(filepath.FromSlash(name)) {
			return nil, errWasmCacheDamaged
		}
		files = append(files, wasmCacheFile{name, payload[:size]})
		payload = payload[size:]
	}
	return files, nil
}

// writeWasmCache seals files into path, written aside and renamed so that
// a reader sees the old file or the new one, never a part.
func writeWasmCache(path string, files []wasmCacheFile) error {
	var payload []byte
	for _, f := range files {
		payload = binary.LittleEndian.AppendUint32(payload, uint32(len(f.name)))
		payload = append(payload, f.name...)
		payload = binary.LittleEndian.AppendUint64(payload, uint64(len(f.data)))
		payload = append(payload, f.data...)
	}
	sum := sha256.Sum256(payload)
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	_, err = tmp.Write(slices.Concat([]byte(wasmCacheMagic), sum[:], payload))
	if err == nil {
		err = tmp.Chmod(0o644) // as the store's other files: CreateTemp makes 0600
	}
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

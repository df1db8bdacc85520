// Package onnx decodes ONNX model files (ModelProto and everything under it)
// into the plain Go values of model.go, without generated protobuf code and
// without copying weight data: the file is memory-mapped and raw
// little-endian tensor bytes are reinterpreted in place.
//
// Entry points:
//
//   - Load(path) maps and decodes a model file (external data resolved next
//     to it); Model.Close releases the mapping. Decode(bytes) and
//     DecodeFile(path, bytes) decode from memory.
//   - ReadTensor(path) reads a lone TensorProto (.pb) file.
//   - Node.Attr / AttrInt / AttrFloat / AttrString / AttrInts look up
//     attributes with a default; Graph.Initializer finds one by name.
//   - Tensor.Float32s / Int64s widen any numeric type;
//     Float16ToFloat32 / Float32ToFloat16 (ties to even, like numpy and
//     onnxruntime) are what a float16 Cast must do.
//
// For the engine's conformance runner: ReadTestCase(dir) reads one test of
// ONNX's node suite (dir/model.onnx, dir/test_data_set_K/input_N.pb and
// output_N.pb, in numeric order) and FindTestCases(root) lists the test
// directories under a root such as /usr/share/libonnx-testdata/data/node.
// Open the model with Load(tc.ModelPath). Sequence/optional tests have .pb
// files that are not TensorProtos: ReadTestCase returns an error for them.
//
// What the decoder checks: protobuf well-formedness and wire types, tensor
// dims (no negatives, no overflow) against the data actually present,
// external data paths (relative, inside the model directory, within the
// file), single assignment of node outputs (no output produced twice or
// shadowing an initializer or graph input; an input sharing its name with
// an initializer is allowed, as ONNX specifies). It does NOT check cycles or
// that every node input is defined: pkg/graph does that when it orders
// nodes. Sparse initializers and sparse attribute values are handed over
// densified. Errors are *Error values naming the file and the element.
package onnx

#!/usr/bin/python3
"""Writes the test fixtures of pkg/onnx and pkg/npy.

Run with Debian's /usr/bin/python3 (onnx 1.12, numpy): `make fixtures`, or
    /usr/bin/python3 scripts/onnx_decoder_fixtures.py
from the repository root. Every model is built with onnx.helper; every
expected value in the JSON files is produced by onnx's / numpy's own Python
API (numpy_helper.to_array, helper.get_attribute_value, astype), never by
our Go code, so the Go tests compare against an independent reference.

Outputs (all small):
  pkg/onnx/testdata/*.onnx, *.bin, *.pb   models, external data, lone tensors
  pkg/onnx/testdata/expected.json         what onnx's Python API reads from them
  pkg/onnx/testdata/bad/*                 malformed inputs + the error each must raise
  pkg/onnx/testdata/float16_all.bin       float32 bits of every float16 (numpy)
  pkg/onnx/testdata/float16_round.bin     float32 bits -> float16 bits pairs (numpy)
  pkg/onnx/testdata/libonnx_sample.json   structure of a sample of libonnx-testdata
  pkg/npy/testdata/*.npy + npy.json       arrays written by numpy.save
"""

import glob
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "pkg", "onnx", "testdata")
NPY_OUT = os.path.join(ROOT, "pkg", "npy", "testdata")
GENERATOR = "scripts/onnx_decoder_fixtures.py with onnx %s, numpy %s, python %s" % (
    onnx.__version__, np.__version__, sys.version.split()[0])
RNG = np.random.default_rng(20240601)


def jnum(x):
    """A JSON-safe number: non-finite floats become strings."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def describe_tensor(t):
    """What onnx's Python API reads from a TensorProto."""
    a = numpy_helper.to_array(t)
    d = {"name": t.name, "data_type": int(t.data_type), "dims": [int(v) for v in t.dims]}
    if t.data_type == TensorProto.STRING:
        d["strings"] = [s.decode("utf-8") if isinstance(s, bytes) else s for s in a.reshape(-1).tolist()]
    else:
        if t.data_type == TensorProto.BFLOAT16 and a.dtype != np.float32:
            a = a.astype(np.float32)
        d["values"] = [jnum(v) for v in a.reshape(-1).tolist()]
    return d


def describe_value_info(vi):
    tt = vi.type.tensor_type
    d = {"name": vi.name, "elem_type": int(tt.elem_type)}
    if tt.HasField("shape"):
        dims = []
        for dim in tt.shape.dim:
            w = dim.WhichOneof("value")
            if w == "dim_value":
                dims.append({"value": int(dim.dim_value)})
            elif w == "dim_param":
                dims.append({"param": dim.dim_param})
            else:
                dims.append({})
        d["shape"] = dims
    else:
        d["shape"] = None
    return d


def describe_graph(g):
    return {
        "name": g.name,
        "nodes": [describe_node(n) for n in g.node],
        "initializers": [describe_tensor(t) for t in g.initializer],
        "inputs": [describe_value_info(v) for v in g.input],
        "outputs": [describe_value_info(v) for v in g.output],
        "value_info": [describe_value_info(v) for v in g.value_info],
    }


def describe_attribute(a):
    v = helper.get_attribute_value(a)
    d = {"name": a.name, "type": int(a.type)}
    t = a.type
    A = onnx.AttributeProto
    if t == A.FLOAT:
        d["f"] = jnum(v)
    elif t == A.INT:
        d["i"] = int(v)
    elif t == A.STRING:
        d["s"] = v.decode("latin-1")
    elif t == A.TENSOR:
        d["t"] = describe_tensor(v)
    elif t == A.GRAPH:
        d["g"] = describe_graph(v)
    elif t == A.FLOATS:
        d["floats"] = [jnum(x) for x in v]
    elif t == A.INTS:
        d["ints"] = [int(x) for x in v]
    elif t == A.STRINGS:
        d["strings"] = [x.decode("latin-1") for x in v]
    elif t == A.TENSORS:
        d["tensors"] = [describe_tensor(x) for x in v]
    elif t == A.GRAPHS:
        d["graphs"] = [describe_graph(x) for x in v]
    elif t == A.SPARSE_TENSOR:
        d["dense"] = describe_sparse(v)
    return d


def describe_node(n):
    return {
        "name": n.name, "op_type": n.op_type, "domain": n.domain,
        "inputs": list(n.input), "outputs": list(n.output),
        "attributes": [describe_attribute(a) for a in n.attribute],
    }


def describe_sparse(s):
    """Densifies a SparseTensorProto with numpy (independently of our Go code)."""
    vals = numpy_helper.to_array(s.values)
    idx = numpy_helper.to_array(s.indices)
    dims = [int(v) for v in s.dims]
    dense = np.zeros(dims, dtype=vals.dtype).reshape(-1)
    if idx.ndim == 2:
        idx = np.ravel_multi_index(idx.T, dims)
    dense[idx] = vals
    return {"name": s.values.name, "data_type": int(s.values.data_type), "dims": dims,
            "values": [jnum(v) for v in dense.tolist()]}


def describe_model(m):
    return {
        "ir_version": int(m.ir_version),
        "producer_name": m.producer_name,
        "producer_version": m.producer_version,
        "domain": m.domain,
        "model_version": int(m.model_version),
        "doc_string": m.doc_string,
        "opset_import": [{"domain": o.domain, "version": int(o.version)} for o in m.opset_import],
        "metadata_props": {p.key: p.value for p in m.metadata_props},
        "graph": describe_graph(m.graph),
    }


def save(model, name):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


# ---------------------------------------------------------------- dtypes

DTYPES = {
    "float32": (TensorProto.FLOAT, np.float32),
    "float16": (TensorProto.FLOAT16, np.float16),
    "bfloat16": (TensorProto.BFLOAT16, None),
    "double": (TensorProto.DOUBLE, np.float64),
    "int8": (TensorProto.INT8, np.int8),
    "uint8": (TensorProto.UINT8, np.uint8),
    "int16": (TensorProto.INT16, np.int16),
    "uint16": (TensorProto.UINT16, np.uint16),
    "int32": (TensorProto.INT32, np.int32),
    "uint32": (TensorProto.UINT32, np.uint32),
    "int64": (TensorProto.INT64, np.int64),
    "uint64": (TensorProto.UINT64, np.uint64),
    "bool": (TensorProto.BOOL, np.bool_),
}


def sample_values(name, n):
    if name in ("float32", "double", "bfloat16"):
        v = RNG.standard_normal(n) * 100
        v[:6] = [0.0, -0.0, 1.0, -2.5, 1e-30, 3.4e38][:min(6, n)]
        return v
    if name == "float16":
        v = (RNG.standard_normal(n) * 100).astype(np.float16)
        special = np.array([0.0, -0.0, 65504, -65504, 6e-8, 1e-5, np.inf, -np.inf, np.nan], dtype=np.float16)
        v[:len(special)] = special
        return v
    if name == "bool":
        return RNG.integers(0, 2, n).astype(bool)
    info = np.iinfo(DTYPES[name][1])
    v = RNG.integers(info.min, info.max, n, dtype=DTYPES[name][1], endpoint=True)
    v[0], v[1] = info.min, info.max
    return v


def dtype_model():
    inits = []
    for name, (dt, npt) in DTYPES.items():
        dims = [3, 4]
        vals = sample_values(name, 12)
        if name == "bfloat16":
            vals = vals.astype(np.float32)
        if npt is not None:
            vals = np.asarray(vals, dtype=npt)
        # typed field (int32_data etc. as helper packs them)
        inits.append(helper.make_tensor(name + "_typed", dt, dims, vals.reshape(-1).tolist() if name != "float16" else vals, raw=False))
        if name == "bfloat16":
            # raw bytes: the same bits the typed tensor holds
            bits = np.array(inits[-1].int32_data, dtype=np.uint16)
            inits.append(helper.make_tensor(name + "_raw", dt, dims, bits.tobytes(), raw=True))
        else:
            inits.append(helper.make_tensor(name + "_raw", dt, dims, vals.tobytes(), raw=True))
    # scalar, empty, and string tensors
    inits.append(helper.make_tensor("scalar_f32", TensorProto.FLOAT, [], [42.5]))
    inits.append(helper.make_tensor("empty_i64", TensorProto.INT64, [0, 3], [], raw=False))
    inits.append(helper.make_tensor("empty_raw", TensorProto.FLOAT, [2, 0], b"", raw=True))
    inits.append(helper.make_tensor("strings", TensorProto.STRING, [3], [b"a", b"", "café".encode("utf-8")]))
    # odd-sized tensor so later raw data is misaligned in the file
    inits.append(helper.make_tensor("odd_u8", TensorProto.UINT8, [3], b"\x01\x02\x03", raw=True))
    inits.append(helper.make_tensor("after_odd_f32", TensorProto.FLOAT, [5], np.arange(5, dtype=np.float32).tobytes(), raw=True))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    node = helper.make_node("Add", ["x", "float32_raw"], ["y"], name="add0")
    g = helper.make_graph([node], "dtypes", [x], [y], initializer=inits)
    m = helper.make_model(g, producer_name="onnx_decoder_fixtures", producer_version="1",
                          opset_imports=[helper.make_opsetid("", 13)])
    return m


# ---------------------------------------------------------------- attributes

def attribute_model():
    sub_in = helper.make_tensor_value_info("s_in", TensorProto.FLOAT, ["N"])
    sub_out = helper.make_tensor_value_info("s_out", TensorProto.FLOAT, ["N"])
    sub = helper.make_graph([helper.make_node("Neg", ["s_in"], ["s_out"], name="neg")], "sub_g", [sub_in], [sub_out])
    sub2 = helper.make_graph([helper.make_node("Abs", ["s_in"], ["s_out"], name="abs")], "sub_g2", [sub_in], [sub_out])
    sparse = helper.make_sparse_tensor(
        helper.make_tensor("sp_vals", TensorProto.FLOAT, [3], [1.5, -2.0, 7.0]),
        helper.make_tensor("sp_idx", TensorProto.INT64, [3], [1, 4, 9]),
        [2, 5])
    attrs = dict(
        a_float=0.125,
        a_int=-7,
        a_bigint=2**40 + 3,
        a_string="hello",
        a_tensor=helper.make_tensor("at", TensorProto.INT64, [2], [5, -6]),
        a_graph=sub,
        a_floats=[1.0, -0.5, 3.25],
        a_ints=[1, -2, 3, 2**62],
        a_strings=["x", "yz"],
        a_tensors=[helper.make_tensor("t0", TensorProto.FLOAT, [1], [1.0]),
                   helper.make_tensor("t1", TensorProto.FLOAT16, [2], np.array([0.5, -2], dtype=np.float16))],
        a_graphs=[sub, sub2],
        a_sparse=sparse,
    )
    node = helper.make_node("Custom", ["x"], ["y"], name="custom0", domain="test.domain", **attrs)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])
    # An empty ints attribute, and an If with both branches.
    empty = helper.make_node("Custom2", ["x"], ["z"], name="", domain="test.domain")
    empty.attribute.extend([helper.make_attribute("a_empty_ints", [])])
    empty.attribute[-1].type = onnx.AttributeProto.INTS
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, None)
    g = helper.make_graph([node, empty], "attrs", [x], [y, z])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.domain", 1)])


# ---------------------------------------------------------------- shapes

def shapes_model():
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", 3, 224, 224])
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    unk = helper.make_tensor_value_info("unknown_dim", TensorProto.FLOAT16, [None, 2])
    noshape = helper.make_tensor_value_info("no_shape", TensorProto.BOOL, None)
    scalar = helper.make_tensor_value_info("scalar", TensorProto.DOUBLE, [])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch_size", 512])
    vi = helper.make_tensor_value_info("mid", TensorProto.FLOAT, ["batch_size", 768])
    nodes = [helper.make_node("Identity", ["pixel_values"], ["mid"], name="id0"),
             helper.make_node("Identity", ["mid"], ["out"], name="id1")]
    g = helper.make_graph(nodes, "shapes", [x, ids, unk, noshape, scalar], [out], value_info=[vi])
    m = helper.make_model(g, producer_name="pytorch", producer_version="2.0.1",
                          opset_imports=[helper.make_opsetid("", 14), helper.make_opsetid("com.microsoft", 1)])
    m.doc_string = "shapes fixture"
    m.domain = "clip.test"
    m.model_version = 7
    helper.set_model_props(m, {"author": "fixtures", "license": "MIT"})
    return m


# ---------------------------------------------------------------- sparse initializer

def sparse_model():
    s1 = helper.make_sparse_tensor(
        helper.make_tensor("sparse_lin", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0]),
        helper.make_tensor("i", TensorProto.INT64, [3], [0, 5, 11]), [3, 4])
    s2 = helper.make_sparse_tensor(
        helper.make_tensor("sparse_coo", TensorProto.INT32, [2], [9, -9]),
        helper.make_tensor("i2", TensorProto.INT64, [2, 2], [0, 1, 2, 3]), [3, 4])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    g = helper.make_graph([helper.make_node("Add", ["x", "sparse_lin"], ["y"])], "sparse", [x], [y])
    g.sparse_initializer.extend([s1, s2])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return m, [describe_sparse(s1), describe_sparse(s2)]


# ---------------------------------------------------------------- external data

def external_tensor(name, dt, dims, location, offset=None, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = dt
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key = k
            e.value = str(v)
    return t


def simple_graph(inits, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], name, [x], [y], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def external_models():
    os.makedirs(os.path.join(OUT, "ext", "weights"), exist_ok=True)
    a = RNG.standard_normal(6).astype(np.float32)
    b = np.arange(-3, 3, dtype=np.int64)
    c = RNG.standard_normal(5).astype(np.float16)
    blob = bytearray()
    offs = {}
    for key, arr in (("a", a), ("b", b), ("c", c)):
        while len(blob) % 3 != 1:  # deliberately misaligned offsets
            blob.append(0xAB)
        offs[key] = (len(blob), arr.nbytes)
        blob += arr.tobytes()
    with open(os.path.join(OUT, "ext", "weights", "data.bin"), "wb") as f:
        f.write(blob)
    whole = RNG.standard_normal(4).astype(np.float32)
    with open(os.path.join(OUT, "ext", "whole.bin"), "wb") as f:
        f.write(whole.tobytes())
    inits = [
        external_tensor("ext_a", TensorProto.FLOAT, [2, 3], "weights/data.bin", *offs["a"]),
        external_tensor("ext_b", TensorProto.INT64, [6], "weights/data.bin", offs["b"][0], offs["b"][1]),
        external_tensor("ext_c", TensorProto.FLOAT16, [5], "./weights/../weights/data.bin", offs["c"][0], offs["c"][1]),
        external_tensor("ext_whole", TensorProto.FLOAT, [4], "whole.bin"),  # no offset, no length
    ]
    m = simple_graph(inits, "external")
    path = os.path.join(OUT, "ext", "model.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    # onnx's own loader reads the external data: that is the reference.
    loaded = onnx.load(path, load_external_data=True)
    expected = [describe_tensor(t) for t in loaded.graph.initializer]

    bad = {
        "ext_escape.onnx": (external_tensor("escapee", TensorProto.FLOAT, [1], "../../../etc/passwd", 0, 4), "escapes the model's directory"),
        "ext_abs.onnx": (external_tensor("absolute", TensorProto.FLOAT, [1], "/etc/passwd", 0, 4), "is absolute"),
        "ext_past_eof.onnx": (external_tensor("too_far", TensorProto.FLOAT, [4], "weights/data.bin", len(blob) - 8, 16), "past the end"),
        "ext_offset_past_eof.onnx": (external_tensor("offset_far", TensorProto.FLOAT, [1], "weights/data.bin", len(blob) + 100, 4), "past the end"),
        "ext_missing.onnx": (external_tensor("nofile", TensorProto.FLOAT, [1], "weights/missing.bin", 0, 4), "no such file"),
        "ext_wrong_length.onnx": (external_tensor("short", TensorProto.FLOAT, [3], "weights/data.bin", 0, 8), "need 3 elements"),
    }
    bad_expect = {}
    for fname, (t, msg) in bad.items():
        with open(os.path.join(OUT, "ext", fname), "wb") as f:
            f.write(simple_graph([t], "bad_external").SerializeToString())
        bad_expect["ext/" + fname] = {"error": msg, "element": t.name}
    return expected, bad_expect


# ---------------------------------------------------------------- malformed models

def raw_tensor(name, dt, dims, raw):
    """A TensorProto built field by field: helper.make_tensor refuses
    inconsistent sizes, which is exactly what these fixtures need."""
    t = TensorProto()
    t.name = name
    t.data_type = dt
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def bad_models():
    os.makedirs(os.path.join(OUT, "bad"), exist_ok=True)
    good = dtype_model().SerializeToString()
    out = {}

    def w(name, data, msg, element=""):
        with open(os.path.join(OUT, "bad", name), "wb") as f:
            f.write(data)
        out["bad/" + name] = {"error": msg, "element": element}

    w("truncated.onnx", good[: len(good) * 2 // 3], "truncated")
    w("truncated_header.onnx", good[:3], "")
    w("empty.onnx", b"", "empty")
    w("jpeg.onnx", bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + bytes(range(200)), "")
    w("text.onnx", b"this is a text file, not a model\n" * 4, "")
    # A TensorProto is not a ModelProto: dims (field 1) vs ir_version, etc.
    w("tensor_as_model.onnx", helper.make_tensor("t", TensorProto.FLOAT, [2], [1, 2]).SerializeToString(), "")

    m = onnx.ModelProto()
    m.ir_version = 8
    m.opset_import.extend([helper.make_opsetid("", 13)])
    w("no_graph.onnx", m.SerializeToString(), "no graph")
    # Cut exactly between the graph and opset_import (written last): every
    # field is whole, but the model is incomplete.
    m = dtype_model()
    m.ClearField("opset_import")
    cut = m.SerializeToString()
    w("truncated_before_opset.onnx", cut, "no opset_import")

    def model_with(inits=(), nodes=None, name="bad"):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
        nodes = nodes if nodes is not None else [helper.make_node("Identity", ["x"], ["y"], name="id")]
        g = helper.make_graph(nodes, name, [x], [y], initializer=list(inits))
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()

    t = raw_tensor("huge", TensorProto.FLOAT, [1 << 20, 1 << 20], b"\0\0\0\0")
    w("huge_dims.onnx", model_with([t]), "need 1099511627776 elements", "huge")
    t = raw_tensor("neg", TensorProto.FLOAT, [2, -3], b"")
    w("negative_dims.onnx", model_with([t]), "negative", "neg")
    t = raw_tensor("overflow", TensorProto.FLOAT, [1 << 40, 1 << 40], b"")
    w("overflow_dims.onnx", model_with([t]), "overflows", "overflow")
    t = raw_tensor("short_raw", TensorProto.FLOAT, [2, 3], np.zeros(5, np.float32).tobytes())
    w("raw_length.onnx", model_with([t]), "data is 20 bytes", "short_raw")
    t = helper.make_tensor("short_typed", TensorProto.INT64, [3], [1, 2, 3])
    t.dims[0] = 4
    w("typed_count.onnx", model_with([t]), "holds 3 int64 values", "short_typed")
    t = helper.make_tensor("no_dtype", TensorProto.FLOAT, [1], [1.0])
    t.data_type = 0
    w("no_dtype.onnx", model_with([t]), "no data_type", "no_dtype")
    t = helper.make_tensor("c64", TensorProto.COMPLEX64, [1], [1 + 2j])
    w("complex.onnx", model_with([t]), "not supported", "c64")
    nodes = [helper.make_node("Identity", ["x"], ["y"], name="first"),
             helper.make_node("Neg", ["x"], ["y"], name="second")]
    w("duplicate_output.onnx", model_with(nodes=nodes), "already produced", "second")
    t = helper.make_tensor("shadow", TensorProto.FLOAT, [1], [1.0])
    nodes = [helper.make_node("Identity", ["x"], ["shadow"], name="writes_init"),
             helper.make_node("Identity", ["shadow"], ["y"], name="id2")]
    w("output_is_initializer.onnx", model_with([t], nodes=nodes), "also an initializer", "writes_init")
    nodes = [helper.make_node("", ["x"], ["y"], name="no_op")]
    w("no_op_type.onnx", model_with(nodes=nodes), "no op_type", "no_op")

    # Wrong wire type: graph (field 7) encoded as a varint.
    w("wrong_wire_graph.onnx", bytes([0x08, 0x08, 0x38, 0x01]), "wire type")
    # Node name (field 3 in NodeProto) encoded as a varint inside a valid model.
    g = onnx.GraphProto()
    g.name = "g"
    node_bytes = bytes([0x22, 0x03]) + b"Neg" + bytes([0x18, 0x05])  # op_type then name as varint
    graph_bytes = bytes([0x0A, len(node_bytes)]) + node_bytes
    opset = bytes([0x42, 0x02, 0x10, 0x0D])  # opset_import {version: 13}
    model_bytes = bytes([0x08, 0x08, 0x3A, len(graph_bytes)]) + graph_bytes + opset
    w("wrong_wire_node.onnx", model_bytes, "wire type", "node[0]")
    # A length prefix claiming more bytes than remain.
    w("bad_length.onnx", bytes([0x08, 0x08, 0x3A, 0x7F, 0x0A, 0x00]), "truncated")
    # Inputs and initializers may share names (ONNX allows it).
    t = helper.make_tensor("x", TensorProto.FLOAT, [1], [3.0])
    with open(os.path.join(OUT, "input_shadowed_by_initializer.onnx"), "wb") as f:
        f.write(model_with([t]))
    return out


# ---------------------------------------------------------------- float16 tables (numpy)

def float16_tables():
    all_half = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    with open(os.path.join(OUT, "float16_all.bin"), "wb") as f:
        f.write(all_half.astype(np.float32).view(np.uint32).astype("<u4").tobytes())
    # float32 -> float16 rounding: random bit patterns, all ties around every
    # half exponent, subnormal boundaries, overflow boundary, inf, nan.
    rnd = RNG.integers(0, 2**32, 40000, dtype=np.uint64).astype(np.uint32)
    halves = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = halves[np.isfinite(halves)].astype(np.float32)
    # midpoints between neighbouring halves: the ties
    srt = np.unique(finite)
    mids = ((srt[:-1].astype(np.float64) + srt[1:].astype(np.float64)) / 2).astype(np.float32)
    edge = np.array([65504, 65519.99, 65520, 65536, 1e-8, 2.98e-8, 2.9802322e-08, 5.96e-8, 6.1e-5,
                     -0.0, 0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4e38], dtype=np.float32)
    f32 = np.concatenate([rnd.view(np.float32), mids, np.nextafter(mids, np.float32(np.inf)),
                          np.nextafter(mids, np.float32(-np.inf)), edge]).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        f16 = f32.astype(np.float16)
    pairs = np.empty(len(f32) * 2, dtype="<u4")
    pairs[0::2] = f32.view(np.uint32)
    pairs[1::2] = f16.view(np.uint16).astype(np.uint32)
    with open(os.path.join(OUT, "float16_round.bin"), "wb") as f:
        f.write(pairs.tobytes())


# ---------------------------------------------------------------- node-test layout + lone tensors

def test_case_dir():
    d = os.path.join(OUT, "testcase_add")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    os.makedirs(os.path.join(d, "test_data_set_1"))
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [2, 3])
    g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "test_add", [a, b], [c])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    desc = {}
    for s in range(2):
        x = RNG.standard_normal((2, 3)).astype(np.float32)
        y = RNG.standard_normal((2, 3)).astype(np.float32)
        sets = {"input_0.pb": numpy_helper.from_array(x, "a"), "input_1.pb": numpy_helper.from_array(y, "b"),
                "output_0.pb": numpy_helper.from_array(x + y, "c")}
        for fn, t in sets.items():
            with open(os.path.join(d, "test_data_set_%d" % s, fn), "wb") as f:
                f.write(t.SerializeToString())
            desc["testcase_add/test_data_set_%d/%s" % (s, fn)] = describe_tensor(t)
    return desc


# ---------------------------------------------------------------- libonnx-testdata sample

def libonnx_sample():
    try:
        files = subprocess.run(["dpkg", "-L", "libonnx-testdata"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        print("libonnx-testdata not installed: skipping libonnx_sample.json", file=sys.stderr)
        return
    models = sorted(p for p in files if p.endswith("/model.onnx"))
    sample = models[::8]
    base = "/usr/share/libonnx-testdata/data/"
    out = {"generator": GENERATOR, "base": base, "models": {}, "tensors": {}}
    for p in sample:
        m = onnx.load(p)
        g = m.graph
        out["models"][p[len(base):]] = {
            "ir_version": int(m.ir_version),
            "producer_name": m.producer_name,
            "opset_import": [{"domain": o.domain, "version": int(o.version)} for o in m.opset_import],
            "graph_name": g.name,
            "nodes": [{"op_type": n.op_type, "domain": n.domain, "inputs": list(n.input), "outputs": list(n.output),
                       "attributes": [{"name": a.name, "type": int(a.type)} for a in n.attribute]} for n in g.node],
            "inputs": [describe_value_info(v) for v in g.input],
            "outputs": [describe_value_info(v) for v in g.output],
            "initializers": [summary(t) for t in g.initializer],
        }
        for pb in sorted(glob.glob(os.path.join(os.path.dirname(p), "test_data_set_0", "*.pb"))):
            t = TensorProto()
            with open(pb, "rb") as f:
                try:
                    t.ParseFromString(f.read())
                except Exception:
                    continue
            if t.data_type == 0:
                continue  # a SequenceProto/OptionalProto that happened to parse
            try:
                out["tensors"][pb[len(base):]] = summary(t)
            except ValueError:
                continue  # likewise, with garbage dims
    with open(os.path.join(OUT, "libonnx_sample.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))


def summary(t):
    """dtype, dims, element count and float64 sum/abs-sum of a tensor's values."""
    d = {"name": t.name, "data_type": int(t.data_type), "dims": [int(v) for v in t.dims]}
    if t.data_type in (TensorProto.STRING, TensorProto.COMPLEX64, TensorProto.COMPLEX128) or t.data_type > 16:
        return d
    a = numpy_helper.to_array(t).astype(np.float64).reshape(-1)
    finite = a[np.isfinite(a)]
    d["count"] = int(a.size)
    d["finite"] = int(finite.size)
    d["sum"] = float(finite.sum())
    d["abs_sum"] = float(np.abs(finite).sum())
    return d


# ---------------------------------------------------------------- npy

def npy_fixtures():
    os.makedirs(NPY_OUT, exist_ok=True)
    desc = {"generator": GENERATOR, "files": {}}
    arrays = {
        "f32_2x3.npy": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "f64_4.npy": np.array([1.5, -0.0, np.inf, 1e300], dtype=np.float64),
        "f16_3x2.npy": np.array([[0.5, -2], [65504, 6e-8], [np.inf, 1.0]], dtype=np.float16),
        "i64_scalar.npy": np.array(-(2**62), dtype=np.int64),
        "i32_2x2x2.npy": np.arange(-4, 4, dtype=np.int32).reshape(2, 2, 2),
        "u8_5.npy": np.array([0, 1, 127, 128, 255], dtype=np.uint8),
        "i8_5.npy": np.array([-128, -1, 0, 1, 127], dtype=np.int8),
        "bool_4.npy": np.array([True, False, False, True]),
        "f32_empty.npy": np.zeros((0, 3), dtype=np.float32),
        "f32_1x512.npy": RNG.standard_normal((1, 512)).astype(np.float32),
    }
    for name, a in arrays.items():
        np.save(os.path.join(NPY_OUT, name), a)
        desc["files"][name] = {"dtype": a.dtype.str, "shape": list(a.shape), "values": [jnum(v) for v in a.reshape(-1).tolist()]}
    # Version 2 header (numpy writes it only for huge headers; force it).
    a = np.arange(3, dtype=np.float32)
    with open(os.path.join(NPY_OUT, "f32_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0))
    desc["files"]["f32_v2.npy"] = {"dtype": a.dtype.str, "shape": [3], "values": [jnum(v) for v in a.tolist()]}
    # Refused: Fortran order, big-endian, object dtype.
    np.save(os.path.join(NPY_OUT, "fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(os.path.join(NPY_OUT, "bigendian.npy"), np.arange(3, dtype=">f4"))
    np.save(os.path.join(NPY_OUT, "complex.npy"), np.arange(3, dtype=np.complex64))
    desc["refused"] = {"fortran.npy": "fortran", "bigendian.npy": "big-endian", "complex.npy": "<c8"}
    with open(os.path.join(NPY_OUT, "npy.json"), "w") as f:
        json.dump(desc, f, indent=1)


# ---------------------------------------------------------------- a real exporter's output

def torch_model():
    """A tiny CLIP-like block exported by torch.onnx (what Hugging Face
    exports look like: Constant nodes, shape sub-graphs, symbolic dims)."""
    try:
        import torch
    except ImportError:
        print("torch not importable: skipping torch_tiny.onnx", file=sys.stderr)
        return None
    torch.manual_seed(0)

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.patch = torch.nn.Conv2d(3, 8, kernel_size=4, stride=4, bias=False)
            self.ln = torch.nn.LayerNorm(8)
            self.qkv = torch.nn.Linear(8, 24)
            self.proj = torch.nn.Linear(8, 4)

        def forward(self, pixel_values):
            x = self.patch(pixel_values).flatten(2).transpose(1, 2)
            x = self.ln(x)
            q, k, v = self.qkv(x).reshape(x.shape[0], x.shape[1], 3, 8).unbind(2)
            a = torch.softmax(q @ k.transpose(1, 2) / 8 ** 0.5, dim=-1)
            y = self.proj((a @ v)[:, 0])
            return y / y.norm(dim=-1, keepdim=True)

    path = os.path.join(OUT, "torch_tiny.onnx")
    torch.onnx.export(Block().eval(), torch.randn(1, 3, 8, 8), path, opset_version=14,
                      input_names=["pixel_values"], output_names=["image_embeds"],
                      dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}})
    m = onnx.load(path)
    m.producer_version = "torch " + torch.__version__  # pin what produced it
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return describe_model(m)



def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {"generator": GENERATOR, "models": {}, "errors": {}, "tensors": {}}
    m = dtype_model()
    save(m, "dtypes.onnx")
    expected["models"]["dtypes.onnx"] = describe_model(m)
    m = attribute_model()
    save(m, "attributes.onnx")
    expected["models"]["attributes.onnx"] = describe_model(m)
    m = shapes_model()
    save(m, "shapes.onnx")
    expected["models"]["shapes.onnx"] = describe_model(m)
    m, dense = sparse_model()
    save(m, "sparse.onnx")
    expected["models"]["sparse.onnx"] = describe_model(m)
    expected["models"]["sparse.onnx"]["graph"]["sparse_initializers_dense"] = dense
    tm = torch_model()
    if tm is not None:
        expected["models"]["torch_tiny.onnx"] = tm
    ext, bad_ext = external_models()
    expected["external"] = ext
    expected["errors"].update(bad_ext)
    expected["errors"].update(bad_models())
    # A lone TensorProto file in each layout (raw and typed).
    for name, t in {
        "lone_raw.pb": numpy_helper.from_array(RNG.standard_normal((2, 2, 3)).astype(np.float32), "lone"),
        "lone_typed_i64.pb": helper.make_tensor("lone_i64", TensorProto.INT64, [3], [-1, 0, 2**40]),
        "lone_f16.pb": numpy_helper.from_array(np.array([1, 0.333, -65504], dtype=np.float16), "lone_f16"),
    }.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(t.SerializeToString())
        expected["tensors"][name] = describe_tensor(t)
    expected["tensors"].update(test_case_dir())
    float16_tables()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    libonnx_sample()
    npy_fixtures()
    for d in (OUT, NPY_OUT):
        with open(os.path.join(d, "GENERATED.txt"), "w") as f:
            f.write("Generated by %s.\nRegenerate with: make fixtures (or /usr/bin/python3 scripts/onnx_decoder_fixtures.py).\n"
                    "fuzz/ is the go test -fuzz corpus, not generated by the script.\n" % GENERATOR if d == OUT else
                    "Generated by %s.\nRegenerate with: make fixtures (or /usr/bin/python3 scripts/onnx_decoder_fixtures.py).\n" % GENERATOR)


if __name__ == "__main__":
    main()

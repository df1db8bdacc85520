// Package kernels holds the float32 (and int8) compute kernels of the
// engine: explicit loops in the ggml/llama.cpp manner, each with a
// portable Go version beside its SIMD assembly, a test against an
// independent reference (float64 or exact integer) and a benchmark.
//
// The API, for pkg/engine:
//
//	Pool                 persistent worker goroutines; NewPool(threads), Close.
//	                     A nil *Pool means "single-threaded". Every kernel
//	                     returns only when its work is done (nothing to cancel;
//	                     check your context between kernels).
//	Sgemm                C = alpha·op(A)·op(B) + beta·C, row-major, any
//	                     transpose/stride; beta = 0 never reads C.
//	PackB, SgemmPacked   pack a weight matrix once, multiply many times.
//	Linear               Y = Act(X·W + bias) + residual, epilogue applied per
//	                     cache block while the product is in L2.
//	MatMulBatched        batched/broadcast MatMul (ONNX MatMul on 3-D+).
//	Attention            fused multi-head attention, optional mask and causal.
//	LayerNorm, Softmax   row kernels (last axis), parallel over rows.
//	Exp, ExpF32, QuickGELU, GELU, Erf, Sigmoid, Add   elementwise float32;
//	Elementwise          runs one of them in parallel chunks on a Pool.
//	Im2col, ConvGeom     Conv2D as im2col + Sgemm.
//	PackB8, GemmU8       uint8 × (u)int8 → int32 GEMM with zero points
//	                     (MatMulInteger): with AVX-512 VNNI, VPDPBUSD on raw
//	                     uint8 × int8 with the zero points corrected after
//	                     the product (gemm8q.go); otherwise the exact int16
//	                     VPMADDWD kernel (AVX-VNNI VPDPWSSD where present).
//	GemmU8Linear         GemmU8 with the int8 Linear's float epilogue (scales,
//	                     bias, activation, residual) on each tile in L1.
//	DynamicQuantizeU8    DynamicQuantizeLinear's range and float → uint8 pass;
//	DequantizeI32        int32 GEMM result → float32 (scales, bias).
//	BLAS, NewBLAS        gonum BLAS with our Sgemm, for gorgonia.Use.
//	MeasureFMAPeak       register-only FMA loop: the machine's GFLOP/s per core.
//
// Errors: functions that can be handed engine-level shapes return an error
// naming the kernel and the mismatch; Sgemm and SgemmPacked panic on
// inconsistent arguments, like BLAS.
//
// CPU support, chosen at start-up from golang.org/x/sys/cpu: AVX2+FMA
// assembly for the hot kernels (Erf is plain Go); where AVX-512F is present, Sgemm adds a
// 6×32, 6×48 and 6×64 zmm micro-kernels (the packed layouts do not change, so PackB
// results are valid either way) and QuickGELU and GELU run on zmm, and the int8
// GEMM uses AVX-VNNI / AVX-512 VNNI when present (PackB8 picks its
// layout for the CPU it runs on). On arm64 (every AArch64 CPU has
// Advanced SIMD, so nothing is detected) Sgemm runs a NEON 6×16
// micro-kernel on the same packed layouts, the int8 GEMM a NEON 6×16
// SMLAL-by-element micro-kernel on PackedB8's int16 layout, or, where the
// dot-product extension is present (x/sys/cpu's ARM64.HasASIMDDP), a
// 6×32 UDOT kernel on the quad layout, which PackB8 then picks; Exp,
// QuickGELU, Sigmoid, Add and the Softmax and LayerNorm rows have NEON
// forms (*_arm64.s, from internal/gen), as has the quad layout's A
// packing; GELU, Erf and the other packing are Go there. Other
// architectures, and x86 without AVX2+FMA, run the Go versions.
// MeasureFMAPeak measures the vector width Sgemm uses (0 where it has no
// assembly loop).
//
// Instruction-set levels (isa.go): a Pool can be limited to a level so a
// machine runs the code an older CPU would, e.g. the AVX2-only path on an
// AVX-512 machine: NewPoolWith(threads, WithISA(ISAAVX2)) (NewPool(threads)
// is ISANative, everything the CPU has; a level the CPU lacks is an error
// there, not a crash). Levels: ISAGeneric (Go micro-kernels and epilogue),
// ISAAVX2 (6×16 ymm Sgemm, VPMADDWD int8, ymm QuickGELU and GELU), ISAAVX2VNNI (plus
// AVX-VNNI VPDPWSSD), ISAAVX512 (zmm Sgemm, QuickGELU and GELU, VPDPBUSD int8).
// Sgemm, SgemmPacked, Linear (with its epilogue), MatMulBatched, Attention's
// products and GemmU8 take the level of the Pool they are given; a kernel
// that runs products inside one parallel share passes p.Serial() rather
// than nil to keep it. PackB8 packs for the CPU's best int8 kernel; a Pool
// whose level cannot read that layout converts it once on first use
// (Pool.PackB8 packs for the Pool's level directly). Not limited by the
// level: the packing helpers of Sgemm and of the quad int8 GEMM's A (AVX2
// or NEON data movement) and the row
// and elementwise kernels (LayerNorm, Softmax, GemmU8Linear's activation,
// Exp, Sigmoid, DynamicQuantizeU8), which run at the native level.
package kernels

//go:generate go run ./internal/gen

package main

import "golang.org/x/sys/cpu"

// zmmPeakLoop runs iters × 32 512-bit VFMADD231PS on 16 independent
// accumulators, touching no memory.
//
//go:noescape
func zmmPeakLoop(iters int)

// zmmFlopsPerIter is 32 FMAs × 16 lanes × 2 flops.
const zmmFlopsPerIter = 32 * 16 * 2

var hasAVX512 = cpu.X86.HasAVX512F

func zmmLoop(iters int) { zmmPeakLoop(iters) }

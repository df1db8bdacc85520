//go:build !amd64

package main

const zmmFlopsPerIter = 32 * 16 * 2

var hasAVX512 = false

func zmmLoop(int) {}

//go:build !linux

package ort

// trimHeap is a no-op where the C library has no malloc_trim.
func trimHeap() {}

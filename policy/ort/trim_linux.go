package ort

/*
#include <malloc.h>
*/
import "C"

// trimHeap hands memory freed by destroyed sessions back to the operating
// system. glibc keeps freed heap pages for reuse, so without it a lowered
// memory cap would free the weights inside the process but not on the
// robot.
func trimHeap() { C.malloc_trim(0) }

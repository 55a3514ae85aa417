package policy

// Backend runs a model's ONNX stages. policy/ort implements it with ONNX
// Runtime; tests may script one. Stages are numbered: 0 is the encoder,
// 1..n are the blocks of exits 1..n, and n+1 is the head.
//
// Every tensor declared in the manifest has one buffer, allocated when the
// backend opens and reused for the life of the backend: a stage reads its
// inputs from and writes its outputs into those buffers.
type Backend interface {
	// Float32 returns the buffer of a float32 tensor, or nil if the
	// manifest declares no such float32 tensor.
	Float32(tensor string) []float32
	// Int64 returns the buffer of an int64 tensor, or nil.
	Int64(tensor string) []int64
	// Load prepares a stage to run. It may take long, and must be safe to
	// call while other stages Run.
	Load(stage int) error
	// Release frees a loaded stage's memory. The engine never releases a
	// stage while it runs.
	Release(stage int) error
	// Run runs a loaded stage once, in place on the tensor buffers.
	Run(stage int) error
	// Close releases everything; the buffers must not be used after it.
	Close() error
}

// encoderStage, blockStage and headStage name stage numbers.
const encoderStage = 0

func blockStage(exit int) int { return exit }

func (e *Engine) headStage() int { return len(e.m.Exits) + 1 }

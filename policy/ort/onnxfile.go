package ort

import (
	"errors"
	"fmt"
	"io"
	"os"

	ortgo "github.com/yalue/onnxruntime_go"
)

// An ONNX file's interface, read from its protobuf without ONNX Runtime.
//
// The backend checks every stage against the manifest when the model
// opens, also stages that a memory cap keeps unloaded, and each stage's
// weights should be read once, by the session that runs it. onnxruntime_go
// (v1.27) reads a model's inputs and outputs only through a temporary
// session of its own (GetInputOutputInfo), which loads all the weights a
// second time: gigabytes for a real encoder. So the check reads the graph's
// declared inputs and outputs and its initializers' external-data records
// here, skipping the weights themselves, which is what ONNX Runtime's
// session would report: graph inputs less initializers, with -1 for
// symbolic dimensions.

// onnxInterface is what the check needs of one ONNX file.
type onnxInterface struct {
	inputs, outputs []ortgo.InputOutputInfo
	external        []externalTensor
}

// externalTensor is an initializer kept in an external-data file.
type externalTensor struct {
	name     string
	location string // relative to the ONNX file's folder
	end      int64  // offset + length: the file must be at least this long
}

// Protobuf field numbers of the ONNX messages read here (onnx/onnx.proto).
const (
	modelGraph = 7

	graphNode        = 1
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	nodeAttribute = 5
	attrTensor    = 5
	attrTensors   = 10

	valueName = 1
	valueType = 2

	typeTensor     = 1
	tensorElemType = 1
	tensorShape    = 2
	shapeDim       = 1
	dimValue       = 1

	initDims         = 1
	initDataType     = 2
	initName         = 8
	initExternalData = 13
	initDataLocation = 14
	entryKey         = 1
	entryValue       = 2
)

// readONNXInterface reads path's graph interface.
func readONNXInterface(path string) (*onnxInterface, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &pbFile{f: f}
	var graph *pbMsg
	err = r.fields(0, st.Size(), func(field int, m pbMsg) error {
		if field == modelGraph && m.wire == wireBytes {
			graph = &m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, errors.New("no graph")
	}
	oi := &onnxInterface{}
	initializers := map[string]bool{}
	var inputs []ortgo.InputOutputInfo
	err = r.fields(graph.off, graph.end, func(field int, m pbMsg) error {
		if m.wire != wireBytes {
			return nil
		}
		switch field {
		case graphInput, graphOutput:
			info, err := r.valueInfo(m)
			if err != nil {
				return err
			}
			if field == graphInput {
				inputs = append(inputs, info)
			} else {
				oi.outputs = append(oi.outputs, info)
			}
		case graphInitializer:
			name, ext, err := r.initializer(m)
			if err != nil {
				return err
			}
			initializers[name] = true
			if ext != nil {
				oi.external = append(oi.external, *ext)
			}
		case graphNode:
			return r.nodeTensors(m, oi)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, in := range inputs {
		if !initializers[in.Name] { // an initializer listed as an input is a weight
			oi.inputs = append(oi.inputs, in)
		}
	}
	return oi, nil
}

// nodeTensors records the external data of a node's tensor attributes
// (Constant nodes, saved with onnx's convert_attribute).
func (r *pbFile) nodeTensors(node pbMsg, oi *onnxInterface) error {
	return r.fields(node.off, node.end, func(field int, a pbMsg) error {
		if field != nodeAttribute || a.wire != wireBytes {
			return nil
		}
		return r.fields(a.off, a.end, func(field int, t pbMsg) error {
			if (field != attrTensor && field != attrTensors) || t.wire != wireBytes {
				return nil
			}
			_, ext, err := r.initializer(t)
			if ext != nil && ext.name == "" {
				ext.name = "(a node's attribute)"
			}
			if ext != nil {
				oi.external = append(oi.external, *ext)
			}
			return err
		})
	})
}

func (r *pbFile) valueInfo(m pbMsg) (ortgo.InputOutputInfo, error) {
	info := ortgo.InputOutputInfo{OrtValueType: ortgo.ONNXTypeUnknown}
	err := r.fields(m.off, m.end, func(field int, v pbMsg) error {
		switch {
		case field == valueName && v.wire == wireBytes:
			b, err := r.bytes(v)
			info.Name = string(b)
			return err
		case field == valueType && v.wire == wireBytes:
			return r.fields(v.off, v.end, func(field int, t pbMsg) error {
				if field != typeTensor || t.wire != wireBytes {
					return nil // a sequence, map or other non-tensor type
				}
				info.OrtValueType = ortgo.ONNXTypeTensor
				return r.tensorType(t, &info)
			})
		}
		return nil
	})
	return info, err
}

func (r *pbFile) tensorType(t pbMsg, info *ortgo.InputOutputInfo) error {
	return r.fields(t.off, t.end, func(field int, v pbMsg) error {
		switch {
		case field == tensorElemType && v.wire == wireVarint:
			info.DataType = ortgo.TensorElementDataType(v.val)
		case field == tensorShape && v.wire == wireBytes:
			info.Dimensions = ortgo.Shape{}
			return r.fields(v.off, v.end, func(field int, d pbMsg) error {
				if field != shapeDim || d.wire != wireBytes {
					return nil
				}
				dim := int64(-1) // symbolic or unknown, as ONNX Runtime reports it
				err := r.fields(d.off, d.end, func(field int, x pbMsg) error {
					if field == dimValue && x.wire == wireVarint {
						dim = int64(x.val)
					}
					return nil
				})
				info.Dimensions = append(info.Dimensions, dim)
				return err
			})
		}
		return nil
	})
}

// initializer reads a TensorProto's name and, if its data is external,
// where it lies. The data itself is skipped.
func (r *pbFile) initializer(m pbMsg) (string, *externalTensor, error) {
	var name string
	var dims []int64
	var dtype uint64
	external := false
	ext := externalTensor{end: -1}
	offset := int64(0)
	err := r.fields(m.off, m.end, func(field int, v pbMsg) error {
		switch {
		case field == initName && v.wire == wireBytes:
			b, err := r.bytes(v)
			name = string(b)
			return err
		case field == initDims && v.wire == wireVarint:
			dims = append(dims, int64(v.val))
		case field == initDims && v.wire == wireBytes: // packed
			b, err := r.bytes(v)
			for len(b) > 0 && err == nil {
				var x uint64
				var n int
				x, n, err = uvarint(b)
				dims, b = append(dims, int64(x)), b[n:]
			}
			return err
		case field == initDataType && v.wire == wireVarint:
			dtype = v.val
		case field == initDataLocation && v.wire == wireVarint:
			external = v.val == 1
		case field == initExternalData && v.wire == wireBytes:
			var key, value string
			err := r.fields(v.off, v.end, func(field int, e pbMsg) error {
				if e.wire != wireBytes {
					return nil
				}
				b, err := r.bytes(e)
				if field == entryKey {
					key = string(b)
				} else if field == entryValue {
					value = string(b)
				}
				return err
			})
			switch key {
			case "location":
				ext.location = value
			case "offset":
				_, scanErr := fmt.Sscan(value, &offset)
				err = errors.Join(err, scanErr)
			case "length":
				_, scanErr := fmt.Sscan(value, &ext.end)
				err = errors.Join(err, scanErr)
			}
			return err
		}
		return nil
	})
	if err != nil || !external {
		return name, nil, err
	}
	if ext.location == "" {
		return name, nil, fmt.Errorf("initializer %q: external data without a location", name)
	}
	if ext.end < 0 { // no length: the tensor's own size
		ext.end = int64(elemSize[dtype])
		for _, d := range dims {
			ext.end *= d
		}
	}
	ext.name, ext.end = name, ext.end+offset
	return name, &ext, nil
}

// elemSize is the byte size of the ONNX element types that have one.
var elemSize = map[uint64]int{1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2}

// Protobuf wire format, the little of it that reading ONNX headers needs.

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// pbMsg is one field: a varint's value, or where a length-delimited
// field's bytes lie in the file.
type pbMsg struct {
	wire     int
	val      uint64
	off, end int64
}

// pbFile reads a protobuf file through a window, so that skipping a
// tensor's data costs nothing and small fields need no system call each.
type pbFile struct {
	f      *os.File
	win    []byte
	winOff int64
}

const pbWindow = 64 << 10

// at returns up to n bytes at off (fewer only at the end of the file).
func (r *pbFile) at(off int64, n int) ([]byte, error) {
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)], nil
	}
	if cap(r.win) < max(n, pbWindow) {
		r.win = make([]byte, max(n, pbWindow))
	}
	r.win = r.win[:cap(r.win)]
	got, err := r.f.ReadAt(r.win, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	r.win, r.winOff = r.win[:got], off
	return r.win[:min(n, got)], nil
}

func (r *pbFile) bytes(m pbMsg) ([]byte, error) {
	b, err := r.at(m.off, int(m.end-m.off))
	if err == nil && int64(len(b)) < m.end-m.off {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// fields calls fn for each field of the message in [off, end).
func (r *pbFile) fields(off, end int64, fn func(field int, m pbMsg) error) error {
	for off < end {
		head, err := r.at(off, 20)
		if err != nil {
			return err
		}
		tag, n, err := uvarint(head)
		if err != nil {
			return fmt.Errorf("byte %d: %w", off, err)
		}
		field, wire := int(tag>>3), int(tag&7)
		m := pbMsg{wire: wire}
		switch wire {
		case wireVarint:
			var k int
			if m.val, k, err = uvarint(head[n:]); err != nil {
				return fmt.Errorf("byte %d: %w", off, err)
			}
			off += int64(n + k)
		case wireFixed64:
			off += int64(n + 8)
		case wireFixed32:
			off += int64(n + 4)
		case wireBytes:
			size, k, err := uvarint(head[n:])
			if err != nil {
				return fmt.Errorf("byte %d: %w", off, err)
			}
			m.off = off + int64(n+k)
			m.end = m.off + int64(size)
			if size > uint64(end) || m.end > end || m.end < m.off {
				return fmt.Errorf("byte %d: field %d runs past its message (truncated file?)", off, field)
			}
			off = m.end
		default:
			return fmt.Errorf("byte %d: field %d has wire type %d, not protobuf", off, field, wire)
		}
		if field == 0 || off > end {
			return fmt.Errorf("byte %d: not a protobuf message (truncated file?)", off)
		}
		if err := fn(field, m); err != nil {
			return err
		}
	}
	return nil
}

var errVarint = errors.New("bad varint")

func uvarint(b []byte) (uint64, int, error) {
	var x uint64
	for i := 0; i < len(b) && i < 10; i++ {
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return x, i + 1, nil
		}
	}
	return 0, 0, errVarint
}

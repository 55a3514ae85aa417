package msgs

import "github.com/deervla/deer_vla/msgs/cdr"

// Header is std_msgs/msg/Header: the acquisition time of the data and the
// coordinate frame it is expressed in.
type Header struct {
	Stamp   Time
	FrameID string
}

// TypeName returns [HeaderType].
func (*Header) TypeName() string { return HeaderType }

// MarshalCDR appends h's CDR encoding to buf.
func (h *Header) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	h.encode(&e)
	return e.Finish()
}

// UnmarshalCDR decodes data into h.
func (h *Header) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	h.decode(&d)
	if err := d.Err(); err != nil {
		return decodeError(HeaderType, err)
	}
	return nil
}

func (h *Header) encode(e *cdr.Encoder) {
	h.Stamp.encode(e)
	e.String(h.FrameID)
}

func (h *Header) decode(d *cdr.Decoder) {
	h.Stamp.decode(d)
	h.FrameID = d.String(h.FrameID)
}

package msgs

import "github.com/deervla/deer_vla/msgs/cdr"

// Image is sensor_msgs/msg/Image: an uncompressed image, rows top to
// bottom, Step bytes per row.
type Image struct {
	Header      Header
	Height      uint32 // number of rows
	Width       uint32 // number of columns
	Encoding    string // pixel encoding, such as "rgb8", "bgr8", "mono8"
	IsBigendian uint8
	Step        uint32 // row length in bytes
	Data        []byte // Step*Height bytes
}

// TypeName returns [ImageType].
func (*Image) TypeName() string { return ImageType }

// MarshalCDR appends m's CDR encoding to buf.
func (m *Image) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	m.Header.encode(&e)
	e.Uint32(m.Height)
	e.Uint32(m.Width)
	e.String(m.Encoding)
	e.Uint8(m.IsBigendian)
	e.Uint32(m.Step)
	e.Uint8Seq(m.Data)
	return e.Finish()
}

// UnmarshalCDR decodes data into m, reusing m.Data's capacity.
func (m *Image) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	m.Header.decode(&d)
	m.Height = d.Uint32()
	m.Width = d.Uint32()
	m.Encoding = d.String(m.Encoding)
	m.IsBigendian = d.Uint8()
	m.Step = d.Uint32()
	m.Data = d.Uint8Seq(m.Data)
	if err := d.Err(); err != nil {
		return decodeError(ImageType, err)
	}
	return nil
}

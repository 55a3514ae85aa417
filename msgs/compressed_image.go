package msgs

import "github.com/deervla/deer_vla/msgs/cdr"

// CompressedImage is sensor_msgs/msg/CompressedImage: an encoded image
// such as a JPEG or PNG file.
type CompressedImage struct {
	Header Header
	Format string // "jpeg", "png", or image_transport's "rgb8; jpeg compressed bgr8"
	Data   []byte // the encoded image
}

// TypeName returns [CompressedImageType].
func (*CompressedImage) TypeName() string { return CompressedImageType }

// MarshalCDR appends m's CDR encoding to buf.
func (m *CompressedImage) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	m.Header.encode(&e)
	e.String(m.Format)
	e.Uint8Seq(m.Data)
	return e.Finish()
}

// UnmarshalCDR decodes data into m, reusing m.Data's capacity.
func (m *CompressedImage) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	m.Header.decode(&d)
	m.Format = d.String(m.Format)
	m.Data = d.Uint8Seq(m.Data)
	if err := d.Err(); err != nil {
		return decodeError(CompressedImageType, err)
	}
	return nil
}

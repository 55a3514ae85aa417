package msgs

import "github.com/deervla/deer_vla/msgs/cdr"

// String is std_msgs/msg/String, used for the language instruction.
type String struct {
	Data string
}

// TypeName returns [StringType].
func (*String) TypeName() string { return StringType }

// MarshalCDR appends s's CDR encoding to buf.
func (s *String) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	e.String(s.Data)
	return e.Finish()
}

// UnmarshalCDR decodes data into s. It does not allocate when the text is
// the same as s.Data already holds.
func (s *String) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	s.Data = d.String(s.Data)
	if err := d.Err(); err != nil {
		return decodeError(StringType, err)
	}
	return nil
}

package cdr

import (
	"errors"
	"fmt"
	"io"
)

// ErrHeader is returned (wrapped) when the 4-byte encapsulation header is
// missing or names a representation other than plain CDR.
var ErrHeader = errors.New("cdr: bad encapsulation header")

// TruncatedError reports data that ends before a value it declares.
// It unwraps to io.ErrUnexpectedEOF.
type TruncatedError struct {
	// What names the value being read, such as "uint32" or "string bytes".
	What string
	// Offset is the byte offset in the encoded data, header included, where
	// the value (after alignment) starts.
	Offset int
	// Need is the number of bytes the value needs.
	Need uint64
	// Left is the number of bytes left from Offset to the end of the data.
	Left int
}

// Error describes the truncation with its byte offset.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("cdr: truncated data: %s at byte offset %d needs %d bytes, %d left",
		e.What, e.Offset, e.Need, e.Left)
}

// Unwrap returns io.ErrUnexpectedEOF.
func (e *TruncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// FormatError reports bytes that are present but not valid CDR, such as a
// string without its NUL terminator.
type FormatError struct {
	// Offset is the byte offset in the encoded data, header included.
	Offset int
	// Msg says what is wrong.
	Msg string
}

// Error describes the problem with its byte offset.
func (e *FormatError) Error() string {
	return fmt.Sprintf("cdr: invalid data at byte offset %d: %s", e.Offset, e.Msg)
}

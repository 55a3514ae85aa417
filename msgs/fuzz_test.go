package msgs

import (
	"bytes"
	"testing"
)

// fuzzRoundTrip decodes data into a fresh message; when that succeeds, the
// message must re-encode to bytes that decode to a message with the same
// encoding. Seeds come from casesCDR and testdata/fuzz/<target>.
func fuzzRoundTrip(f *testing.F, typeName string) {
	for _, tc := range casesCDR {
		if tc.msg.TypeName() == typeName {
			f.Add(mustHex(f, tc.hex))
		}
	}
	for _, tc := range casesDecodeOnly {
		if tc.msg.TypeName() == typeName {
			f.Add(mustHex(f, tc.hex))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _ := New(typeName)
		if err := m.UnmarshalCDR(data); err != nil {
			return
		}
		first := m.MarshalCDR(nil)
		again, _ := New(typeName)
		if err := again.UnmarshalCDR(first); err != nil {
			t.Fatalf("re-encoded message does not decode: %v\ninput %x\nre-encoded %x", err, data, first)
		}
		if second := again.MarshalCDR(nil); !bytes.Equal(first, second) {
			t.Fatalf("encoding is not stable\nfirst  %x\nsecond %x", first, second)
		}
		// Decoding again into the used value (the reuse path) must agree.
		if err := m.UnmarshalCDR(first); err != nil {
			t.Fatalf("decoding into a used value failed: %v", err)
		}
		if third := m.MarshalCDR(nil); !bytes.Equal(first, third) {
			t.Fatalf("decoding into a used value differs\nfirst %x\nthird %x", first, third)
		}
	})
}

func FuzzDecodeImage(f *testing.F)     { fuzzRoundTrip(f, ImageType) }
func FuzzDecodeAction(f *testing.F)    { fuzzRoundTrip(f, ActionType) }
func FuzzDecodeStepStats(f *testing.F) { fuzzRoundTrip(f, StepStatsType) }

func FuzzDecodeCompressedImage(f *testing.F) { fuzzRoundTrip(f, CompressedImageType) }
func FuzzDecodeString(f *testing.F)          { fuzzRoundTrip(f, StringType) }
func FuzzDecodeHeader(f *testing.F)          { fuzzRoundTrip(f, HeaderType) }
func FuzzDecodeTime(f *testing.F)            { fuzzRoundTrip(f, TimeType) }

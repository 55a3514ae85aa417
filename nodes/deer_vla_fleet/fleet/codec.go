package fleet

import (
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// The element types cross Beam's wire with its schema coder (exported
// fields; maps, slices and pointers included).
func init() {
	for _, t := range []reflect.Type{
		reflect.TypeOf(Job{}), reflect.TypeOf(Row{}), reflect.TypeOf(Summary{}), reflect.TypeOf(summaryAcc{}),
		reflect.TypeOf(BagDistances{}), reflect.TypeOf(calibrationAcc{}), reflect.TypeOf(CalibrationResult{}),
	} {
		beam.RegisterType(t)
	}
}

package control

// FullDepth returns p changed to run every exit at every step: no budget,
// no thresholds, no held exits. Calibration runs this way, so that every
// exit's distance is measured at every step (deer_vla_calibrate, and the
// fleet's calibration at scale).
func FullDepth(p Params) (Params, error) {
	return p.With(map[string]Value{
		ParamAvgGFLOPs: Double(0), ParamPeakGFLOPs: Double(0), ParamMemoryMB: Double(0),
		ParamThresholds: Doubles(nil), ParamHoldSteps: Int(0),
	}, false)
}

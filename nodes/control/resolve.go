package control

import "path/filepath"

// Resolve returns p with the three read-only paths whose default is empty
// (model.path, model.calibration, runtime.library) set to what the node
// will open: the parameters then show an operator what runs, and `ros2
// param dump` writes no empty strings (Humble's `ros2 param load` cannot
// send one back: it reads ” as YAML, gets None and fails).
func (env Environment) Resolve(p Params) (Params, error) {
	dir, err := env.ModelDir(p)
	if err != nil {
		return p, err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	changes := map[string]Value{ParamModelPath: String(dir)}
	if p.Str(ParamCalibration) == "" {
		// A folder means every calibration*.csv in it, as the default does.
		changes[ParamCalibration] = String(dir)
	}
	if lib := env.Library(p); lib != "" {
		changes[ParamLibrary] = String(lib)
	}
	return p.With(changes, true)
}

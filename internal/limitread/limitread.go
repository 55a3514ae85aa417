// Package limitread reads whole files from outside (model folders, bag
// metadata) with a size limit checked before the file is read, so that a
// damaged or hostile file cannot make a reader allocate without bound.
package limitread

import (
	"fmt"
	"io"
	"os"
)

// File reads the file at path, refusing one larger than limit bytes.
func File(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than the %d-byte limit", path, limit)
	}
	return data, nil
}

package limitread

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := File(path, 5); err != nil || string(data) != "12345" {
		t.Fatalf("at the limit: %q, %v", data, err)
	}
	if _, err := File(path, 4); err == nil || !strings.Contains(err.Error(), "4-byte limit") || !strings.Contains(err.Error(), path) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := File(path+"x", 4); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}

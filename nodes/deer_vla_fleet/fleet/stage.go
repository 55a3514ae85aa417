package fleet

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// remote reports whether p names a file through one of Beam's file
// systems (gs://, s3://, ...) rather than a local path.
func remote(p string) bool {
	i := strings.Index(p, "://")
	return i > 0 && p[:i] != "file"
}

// stage makes a bag readable as a local path: local bags are used where
// they are; a remote .mcap or .db3 file is copied to a temporary folder,
// and a remote bag folder has every file below it copied. cleanup removes
// the copy.
func stage(ctx context.Context, bag string) (local string, cleanup func(), err error) {
	if !remote(bag) {
		return strings.TrimPrefix(bag, "file://"), func() {}, nil
	}
	fs, err := filesystem.New(ctx, bag)
	if err != nil {
		return "", nil, fmt.Errorf("fleet: %s: %w", bag, err)
	}
	defer fs.Close()
	tmp, err := os.MkdirTemp("", "deer_vla_fleet_bag_*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	files := []string{bag}
	local = filepath.Join(tmp, path.Base(bag))
	if ext := path.Ext(bag); ext != ".mcap" && ext != ".db3" {
		if files, err = fs.List(ctx, strings.TrimSuffix(bag, "/")+"/*"); err != nil || len(files) == 0 {
			cleanup()
			return "", nil, fmt.Errorf("fleet: bag folder %s: no files (%v)", bag, err)
		}
		if err := os.Mkdir(local, 0o755); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	for _, f := range files {
		dst := local
		if len(files) > 1 || f != bag {
			dst = filepath.Join(local, path.Base(f))
		}
		if err := copyTo(ctx, fs, f, dst); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("fleet: staging %s: %w", f, err)
		}
	}
	return local, cleanup, nil
}

func copyTo(ctx context.Context, fs filesystem.Interface, src, dst string) error {
	r, err := fs.OpenRead(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// ExpandBags turns the command line's bags into a sorted list without
// duplicates: local globs are expanded with filepath.Glob (folders, .mcap
// and .db3 files alike), remote globs through Beam's file system for
// their scheme. A pattern that matches nothing is an error, so that a
// typo never replays an empty fleet.
func ExpandBags(ctx context.Context, patterns []string) ([]string, error) {
	seen := map[string]bool{}
	var bags []string
	for _, pat := range patterns {
		var matches []string
		switch {
		case !strings.ContainsAny(pat, "*?["):
			matches = []string{pat}
		case remote(pat):
			fs, err := filesystem.New(ctx, pat)
			if err != nil {
				return nil, fmt.Errorf("fleet: %s: %w", pat, err)
			}
			matches, err = fs.List(ctx, pat)
			fs.Close()
			if err != nil {
				return nil, fmt.Errorf("fleet: %s: %w", pat, err)
			}
		default:
			var err error
			if matches, err = filepath.Glob(pat); err != nil {
				return nil, fmt.Errorf("fleet: %s: %w", pat, err)
			}
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("fleet: %s matches no bag", pat)
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				bags = append(bags, m)
			}
		}
	}
	sort.Strings(bags)
	return bags, nil
}

package config

import (
	"os"
	"path/filepath"
)

// CheckResultFile reports, as an *Error naming result-file, a path where
// the result cannot be written: a folder, or a file in a folder that does
// not exist or takes no new files. The result is written at the very end
// of a run, by replacing the file (see the plain reporter), so the check
// creates and removes a file beside it: a run must learn that before it
// writes anything anywhere, not after a deploy. An empty path is fine.
func CheckResultFile(path string) error {
	if err := resultFileProblem(path); err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.probe")
	if err != nil {
		return Errorf("result-file", "cannot write in the folder of %q: %v", path, unwrapPath(err))
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return nil
}

// resultFileProblem is the part of CheckResultFile that only reads.
func resultFileProblem(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return Errorf("result-file", "the folder of %q does not exist", path)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Errorf("result-file", "%q is a folder; name a file in it, e.g. %s", path, filepath.Join(path, "bluegreen.json"))
	}
	return nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

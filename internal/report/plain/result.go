package plain

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// fileResult is the JSON result file: every field of report.Result, the
// steps with their durations, and the same six outputs a GitHub Action
// sets, so a script reads the same facts on any CI.
type fileResult struct {
	report.Result
	// Steps hides Result.Steps, whose durations are not encoded.
	Steps   []fileStep        `json:"steps"`
	Outputs map[string]string `json:"outputs"`
}

type fileStep struct {
	Name       string          `json:"name"`
	Status     pipeline.Status `json:"status"`
	DurationMS int64           `json:"duration_ms"`
	Detail     string          `json:"detail,omitempty"`
}

func encodeResult(r report.Result) ([]byte, error) {
	f := fileResult{
		Result:  r,
		Steps:   make([]fileStep, 0, len(r.Steps)),
		Outputs: make(map[string]string),
	}
	for _, s := range r.Steps {
		f.Steps = append(f.Steps, fileStep{Name: s.Name, Status: s.Status, DurationMS: s.Duration.Milliseconds(), Detail: s.Detail})
	}
	for _, o := range r.Outputs() {
		f.Outputs[o[0]] = o[1]
	}
	var b bytes.Buffer
	enc := report.NewJSONEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory and a rename, so a reader (or a run killed half way)
// never leaves or sees a partial file.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	// CreateTemp makes the file private; the result is meant for later CI
	// steps, which may run as another user.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

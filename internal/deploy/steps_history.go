package deploy

import (
	"context"
	"fmt"
)

// historyStep lists the application's past runs as report notes.
type historyStep struct{ r *Run }

func (historyStep) String() string { return "read history" }

func (h historyStep) Run(ctx context.Context, s *State) error {
	if h.r.deps.History == nil {
		return fmt.Errorf("this platform keeps no history")
	}
	entries, err := h.r.deps.History.List(ctx)
	if err != nil {
		return err
	}
	for _, e := range entries {
		line := fmt.Sprintf("%s  %-8s %-5s %-11s %s", e.Time.Format("2006-01-02 15:04:05Z"), e.Command, e.Color, e.Result, e.Image)
		if e.GitSHA != "" {
			line += "  sha " + e.GitSHA
		}
		if e.RunURL != "" {
			line += "  " + e.RunURL
		}
		s.Notes = append(s.Notes, line)
	}
	if len(entries) == 0 {
		s.Notes = append(s.Notes, "no deploys recorded yet")
	}
	s.historyEntries = len(entries)
	return nil
}

func (h historyStep) Detail(s *State) string {
	switch s.historyEntries {
	case 0:
		return "no entries"
	case 1:
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", s.historyEntries)
}

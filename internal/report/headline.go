package report

// Headline names the run and its outcome: "bluegreen deploy of shop:
// success", followed by dryRun for a dry run. Both reporters head their
// summary with it, each with its own words for a dry run.
func Headline(r Result, dryRun string) string {
	s := "bluegreen " + orDefault(string(r.Command), "run")
	if r.App != "" {
		s += " of " + r.App
	}
	s += ": " + orDefault(string(r.Outcome), "unknown")
	if r.DryRun {
		s += dryRun
	}
	return s
}

// LiveText says which color took traffic before and after the run, with
// arrow between them ("blue → green", "green (unchanged)").
func LiveText(r Result, arrow string) string {
	prev, next := orDefault(r.PreviousColor, "none"), orDefault(r.ActiveColor, "none")
	switch {
	case prev == next:
		return next + " (unchanged)"
	case r.DryRun:
		return prev + arrow + next + " (planned)"
	case r.Outcome == Split:
		return prev + " and " + next + " (split: both serve)"
	}
	return prev + arrow + next
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

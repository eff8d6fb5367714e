package deploy

import (
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/gate"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// Options are the tunables of a run, taken from the inputs.
type Options struct {
	App     string
	Release platform.Release
	// Owner identifies the run in the lock: a CI run URL, or host and pid.
	Owner string

	WaitTimeout time.Duration
	VerifyURL   string
	// VerifyChecks, when set, are the checks of VerifyURL with the
	// statuses, body and headers asked for; otherwise any 2xx passes.
	VerifyChecks  []verify.Check
	VerifyTimeout time.Duration
	ProductionURL string
	BakeTime      time.Duration
	// TrafficSteps are the percentages of traffic the new color gets in
	// turn, ending with 100; empty switches all at once. Between steps
	// the new color is watched for StepPause, as during the bake.
	TrafficSteps []int
	// SplitWeight is the percent of traffic command split gives the new
	// release.
	SplitWeight    int
	StepPause      time.Duration
	ScaleDownAfter time.Duration
	LockTimeout    time.Duration
	DryRun         bool
	// FromManifest says the platform deploys from a manifest, whose
	// replica count holds when the live color gives none.
	FromManifest bool

	// MigrateBefore and MigrateAfter are commands run with the new image
	// before the switch (expand) and after the bake (contract).
	MigrateBefore, MigrateAfter []string
	// RollbackOnMigrateFailure moves traffic back when the contract
	// migration fails.
	RollbackOnMigrateFailure bool

	// RouteGrace bounds how long the last check before a switch waits for
	// the route to see the new color; zero means 10 s.
	RouteGrace time.Duration

	// Poll is the interval of the bake's health checks; zero means 2 s.
	Poll time.Duration
	// Grace bounds the reverts after a failure or cancellation; zero means
	// the pipeline's default.
	Grace time.Duration
	// RevertBackoff is the first wait between attempts at putting traffic
	// back, doubled after each; zero means 250ms.
	RevertBackoff time.Duration
}

// Deps are the systems a run talks to.
type Deps struct {
	Platform platform.Platform
	Router   router.Router
	// Preview, when set, is pointed at the idle color before verification
	// so it can be tested before users see it.
	Preview router.Router
	Locker  lock.Locker
	History history.Store
	Checker *verify.Checker
	// Promoter, when set, copies the image before a deploy, or is the
	// whole of command promote.
	Promoter Promoter
	// Migrator runs migrate-before and migrate-after; SQL applies the
	// built-in migrations before the switch.
	Migrator migrate.Migrator
	SQL      migrate.SQLMigrator
	// Gates are metric gates checked between traffic steps and during
	// the bake; a failing gate puts traffic back.
	Gates    []gate.Gate
	Reporter report.Reporter
	// Clock paces the long waits (the lock, scale-down-after) and their
	// progress lines; nil is the wall clock.
	Clock clock.Clock
}

// State is what the steps of one run learn and decide, in order.
type State struct {
	// Release is what the run deploys: the release of the options, with
	// the image and digest of the copy when the run promoted one. Options
	// never change once the run is made; what it learns is kept here.
	Release platform.Release
	// Migrated lists the SQL migrations the run applied.
	Migrated []string
	// Previous is the routing found before anything was changed.
	Previous router.Weights
	// Live is the color serving when the run started; Target the color
	// the run deploys to and switches to.
	Live, Target color.Color
	Colors       map[color.Color]platform.ColorState

	// UpToDate is set when the live color already runs the requested
	// release and is healthy: nothing needs to change.
	UpToDate bool
	// Deployed is set once the run wrote a release to the target color.
	Deployed bool
	// Prepared is the release a switch or an abort acts on, once found
	// in the history and checked against the live system.
	Prepared *history.Entry
	// Finishing is set when the route was split and the target color
	// already runs the release: the run only moves traffic to it.
	Finishing bool
	// Want is the routing the switch ended with; the run confirms it.
	Want router.Weights
	// Switched is set once the router applied the new weights;
	// RolledBack once a revert put the previous weights back and a read
	// showed them; RevertFailed when a revert gave up without that read.
	Switched, RolledBack, RevertFailed bool
	// Notes are lines for the report: what a dry run would change, or
	// the history entries.
	Notes []string
	// Traffic is the routing read at the start and every routing the run
	// set after it, for the report's chart.
	Traffic []report.TrafficPoint
	// GateChecks are the readings of the metric gates, in order.
	GateChecks []gate.Check

	// lock is the deploy lock while the run holds it.
	lock lock.Lock
	// recorded is set once the run's history entry is written, so that it
	// is written once even when the lock is let go before the run ends.
	recorded bool
	// keptOld says why the old color was left running after
	// scale-down-after.
	keptOld string
	// historyEntries counts the entries the history command read.
	historyEntries int
}

// DryRunner is implemented by platforms and routers that can go through
// their writes without taking effect: a Kubernetes server-side dry run, or
// a read, validate and build that sends nothing where the API has no dry
// run (ECS, ELBv2; see router.DryRunNoter). A dry run skips the writes of
// those that cannot.
type DryRunner interface {
	DryRun() bool
}

// canDryRun reports whether x goes through its writes in a dry run.
func canDryRun(x any) bool {
	d, ok := x.(DryRunner)
	return ok && d.DryRun()
}

func (s *State) note(line string) { s.Notes = append(s.Notes, line) }

// moved records w as the routing from now on, set (or read) by step. A
// routing equal to the last one recorded adds nothing: the chart shows
// changes only.
func (s *State) moved(step string, w router.Weights) {
	p := report.TrafficPoint{At: time.Now(), Blue: w[color.Blue], Green: w[color.Green], Step: step}
	if n := len(s.Traffic); n > 0 && s.Traffic[n-1].Blue == p.Blue && s.Traffic[n-1].Green == p.Green {
		return
	}
	s.Traffic = append(s.Traffic, p)
}

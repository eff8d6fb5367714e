package ecstag

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/ecstags"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// API is the part of the ECS client the lock uses.
type API interface {
	ListTagsForResource(context.Context, *awsecs.ListTagsForResourceInput, ...func(*awsecs.Options)) (*awsecs.ListTagsForResourceOutput, error)
	TagResource(context.Context, *awsecs.TagResourceInput, ...func(*awsecs.Options)) (*awsecs.TagResourceOutput, error)
	UntagResource(context.Context, *awsecs.UntagResourceInput, ...func(*awsecs.Options)) (*awsecs.UntagResourceOutput, error)
}

var (
	_ API         = (*awsecs.Client)(nil)
	_ lock.Locker = (*Locker)(nil)
)

// Defaults for the options.
const (
	DefaultDuration = 60 * time.Second
	DefaultRenew    = 20 * time.Second
	DefaultSettle   = 2 * time.Second
	DefaultPoll     = 2 * time.Second
)

// KeyPrefix starts the key of the tag holding an application's lock.
const KeyPrefix = "bluegreen:lock:"

// Key returns the key of the tag holding app's lock.
func Key(app string) string { return KeyPrefix + app }

// maxRaces bounds how often one attempt starts over after losing a race
// or a write missing its deadline. Each means another run wrote the tag or
// ECS answered slowly, so a handful is already unusual.
const maxRaces = 10

// abandonTimeout bounds the clean-up of an unconfirmed claim when Acquire
// gives up, which runs even when Acquire's context is done.
const abandonTimeout = 5 * time.Second

// errLate marks a write that was not done by its deadline, half the
// settle interval after its check began: it may land later, when the
// check no longer proves anything, so the attempt is not trusted.
var errLate = errors.New("not done within half the settle interval after the check")

// errRaces is returned by an attempt that started over maxRaces times.
var errRaces = fmt.Errorf("started over %d times in a row after losing races to other runs or slow writes", maxRaces)

// Config holds what a Locker cannot work without.
type Config struct {
	API API
	// ClusterARN is the full ARN of the cluster holding the tag
	// (arn:aws:ecs:<region>:<account>:cluster/<name>): ECS tags resources
	// by ARN only.
	ClusterARN string
	// App names the application; its lock is the tag "bluegreen:lock:<App>".
	App string
}

// Option tunes a Locker.
type Option func(*Locker)

// WithDuration sets how long a claim stays valid without renewal (default
// 60s). Expiry is stored in whole seconds, so it must be at least 1s.
func WithDuration(d time.Duration) Option { return func(l *Locker) { l.duration = d } }

// WithRenew sets how often the holder renews its claim (default 20s). It
// must be shorter than the duration.
func WithRenew(d time.Duration) Option { return func(l *Locker) { l.renew = d } }

// WithSettle sets how long Acquire waits between writing its claim and
// reading it back (default 2s); see the package documentation for why it
// must be far longer than one ECS call. It must be shorter than the
// duration.
func WithSettle(d time.Duration) Option { return func(l *Locker) { l.settle = d } }

// WithPoll sets how often Acquire looks again at a held lock while it
// waits (default 2s, jittered ±20% so that waiting runs fall out of step).
func WithPoll(d time.Duration) Option { return func(l *Locker) { l.poll = d } }

// WithClock replaces time.Now: for the times written to the tag, and as
// the local clock that measures how long a claim went unrenewed since this
// Locker saw it.
func WithClock(now func() time.Time) Option { return func(l *Locker) { l.now = now } }

// WithWarning sets where a failed renewal is reported (default: standard
// error). The claim is kept and renewed again; it is lost only when
// renewals fail for the whole lease.
func WithWarning(warn func(msg string)) Option { return func(l *Locker) { l.warn = warn } }

// Locker takes the deploy lock held in one tag of an ECS cluster.
type Locker struct {
	api     API
	cluster string // ARN
	key     string
	name    string // for messages: <cluster name>/<key>

	duration time.Duration
	renew    time.Duration
	settle   time.Duration
	poll     time.Duration
	now      func() time.Time
	warn     func(string)

	mu   sync.Mutex
	seen struct {
		key string    // the claim as last read
		at  time.Time // when this Locker first read it so
	}
}

// New returns the Locker of cfg.App's lock on the cluster cfg.ClusterARN.
func New(cfg Config, opts ...Option) (*Locker, error) {
	if cfg.API == nil {
		return nil, errors.New("ecs tag lock: no ECS client")
	}
	a, err := awsapi.ParseARN("", cfg.ClusterARN, "ecs", "cluster/")
	if err != nil {
		return nil, fmt.Errorf("ecs tag lock: cluster ARN %w", err)
	}
	key := Key(cfg.App)
	switch {
	case cfg.App == "":
		return nil, errors.New("ecs tag lock: no app name")
	case !ecstags.ValidKey(key):
		return nil, fmt.Errorf("ecs tag lock: app name %q does not make a valid ECS tag key (at most %d characters of letters, digits, spaces and _.:/=+-@)",
			cfg.App, ecstags.MaxKey-len(KeyPrefix))
	}
	l := &Locker{
		api:      cfg.API,
		cluster:  cfg.ClusterARN,
		key:      key,
		name:     strings.TrimPrefix(a.Resource, "cluster/") + "/" + key,
		duration: DefaultDuration,
		renew:    DefaultRenew,
		settle:   DefaultSettle,
		poll:     DefaultPoll,
		now:      time.Now,
		warn:     func(msg string) { fmt.Fprintln(os.Stderr, "warning: "+msg) },
	}
	for _, opt := range opts {
		opt(l)
	}
	switch {
	case l.duration < time.Second || l.duration%time.Second != 0:
		return nil, fmt.Errorf("ecs tag lock %q: duration %s is not a whole number of seconds of at least 1s", l.name, l.duration)
	case l.renew <= 0 || l.renew >= l.duration:
		return nil, fmt.Errorf("ecs tag lock %q: renew interval %s must be positive and shorter than the duration %s", l.name, l.renew, l.duration)
	case l.settle <= 0 || l.settle >= l.duration:
		return nil, fmt.Errorf("ecs tag lock %q: settle interval %s must be positive and shorter than the duration %s", l.name, l.settle, l.duration)
	case l.poll <= 0:
		return nil, fmt.Errorf("ecs tag lock %q: poll interval %s must be positive", l.name, l.poll)
	case l.now == nil:
		return nil, fmt.Errorf("ecs tag lock %q: nil clock", l.name)
	case l.warn == nil:
		return nil, fmt.Errorf("ecs tag lock %q: nil warning function", l.name)
	}
	return l, nil
}

// Acquire takes the lock for owner, waiting up to wait for the holder to
// release it or let it expire. With wait 0 a held lock fails at once with
// a *lock.HeldError. The claim is renewed in the background until release
// is called.
//
// owner should be unique to the run (a CI run ID and attempt): the lock is
// not re-entrant, and a claim by the same owner counts as held.
func (l *Locker) Acquire(ctx context.Context, owner string, wait time.Duration) (lock.Lock, error) {
	if strings.TrimSpace(owner) == "" {
		return nil, fmt.Errorf("acquiring lock %q: empty owner", l.name)
	}
	owner = cleanOwner(owner)
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	// ours holds the tokens of the claims this call wrote: one of them in
	// the tag is no obstacle, and is removed if Acquire gives up.
	ours := map[string]bool{}
	for {
		got, sent, err := l.try(ctx, owner, ours)
		if err == nil {
			return l.hold(ctx, got, sent), nil
		}
		var held *lock.HeldError
		if !errors.As(err, &held) && !awsapi.IsThrottle(err) && !errors.Is(err, errRaces) {
			l.abandon(ctx, ours)
			return nil, err
		}
		if serr := awsapi.Sleep(waitCtx, l.poll); serr != nil {
			l.abandon(ctx, ours)
			switch {
			case ctx.Err() != nil && held != nil:
				return nil, fmt.Errorf("waiting for lock %q held by %q: %w", l.name, held.Holder, context.Cause(ctx))
			case ctx.Err() != nil:
				return nil, fmt.Errorf("waiting for lock %q: %w", l.name, context.Cause(ctx))
			}
			return nil, err
		}
	}
}

// try makes one attempt at taking the lock: check, write, settle, confirm.
// It returns our claim as written, a *lock.HeldError, or another error.
// ours collects the tokens of the claims written.
func (l *Locker) try(ctx context.Context, owner string, ours map[string]bool) (value, time.Time, error) {
	for range maxRaces {
		checked := time.Now()
		cur, err := l.read(ctx)
		if err != nil {
			return value{}, time.Time{}, err
		}
		if !ours[cur.token] && l.live(cur) {
			return value{}, time.Time{}, l.heldError(cur)
		}
		sent := l.now()
		mine := value{
			token:   rand.Text(),
			expires: sent.Add(l.duration).Truncate(time.Second),
			since:   sent.Truncate(time.Second),
			lease:   l.duration,
			owner:   owner,
		}
		// Noted before writing: a write that fails may still land.
		ours[mine.token] = true
		err = l.write(ctx, checked, mine)
		switch {
		case errors.Is(err, errLate):
			continue // check again: a claim of ours found there is no obstacle
		case err != nil && definite(err):
			return value{}, time.Time{}, err
		}
		// Written, or no answer (a reset connection, a 5xx) to a write
		// that may have landed before its deadline: the read after the
		// settle interval tells whether we hold the lock.
		if err := clock.Sleep(ctx, l.settle); err != nil {
			return value{}, time.Time{}, fmt.Errorf("acquiring lock %q: %w", l.name, err)
		}
		got, err := l.read(ctx)
		if err != nil {
			return value{}, time.Time{}, err
		}
		switch {
		case got.token == mine.token:
			return mine, sent, nil
		case !ours[got.token] && l.live(got):
			return value{}, time.Time{}, l.heldError(got) // a racing run wrote after our check
		}
		// Removed, unreadable, or an earlier write of ours that landed
		// late, when no check vouches for it: look again.
	}
	return value{}, time.Time{}, fmt.Errorf("acquiring lock %q: %w", l.name, errRaces)
}

// abandon removes a claim Acquire wrote but gave up on before confirming
// it, if the tag still carries one.
func (l *Locker) abandon(ctx context.Context, ours map[string]bool) {
	if len(ours) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	checked := time.Now()
	cur, err := l.read(ctx)
	if err == nil && ours[cur.token] {
		_ = l.remove(ctx, checked) // best effort: an unconfirmed claim lapses anyway
	}
}

// read returns the claim in the tag; the zero value when there is none.
func (l *Locker) read(ctx context.Context) (value, error) {
	out, err := l.api.ListTagsForResource(ctx, &awsecs.ListTagsForResourceInput{ResourceArn: aws.String(l.cluster)})
	if err != nil {
		return value{}, fmt.Errorf("reading the tags of cluster %q: %w", l.cluster, err)
	}
	for _, t := range out.Tags {
		if aws.ToString(t.Key) == l.key {
			return parseValue(aws.ToString(t.Value)), nil
		}
	}
	return value{}, nil
}

// write stores v in the tag, giving up half the settle interval after the
// check that allowed it began.
func (l *Locker) write(ctx context.Context, checked time.Time, v value) error {
	wctx, cancel := context.WithDeadline(ctx, checked.Add(l.settle/2))
	defer cancel()
	_, err := l.api.TagResource(wctx, &awsecs.TagResourceInput{
		ResourceArn: aws.String(l.cluster),
		Tags:        []types.Tag{{Key: aws.String(l.key), Value: aws.String(v.String())}},
	})
	return l.writeErr(ctx, wctx, "writing", err)
}

// remove deletes the tag, under the same deadline as write.
func (l *Locker) remove(ctx context.Context, checked time.Time) error {
	wctx, cancel := context.WithDeadline(ctx, checked.Add(l.settle/2))
	defer cancel()
	_, err := l.api.UntagResource(wctx, &awsecs.UntagResourceInput{ResourceArn: aws.String(l.cluster), TagKeys: []string{l.key}})
	return l.writeErr(ctx, wctx, "removing", err)
}

func (l *Locker) writeErr(ctx, wctx context.Context, verb string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil && wctx.Err() != nil:
		return fmt.Errorf("%s tag %q on cluster %q: %w", verb, l.key, l.cluster, errLate)
	}
	return fmt.Errorf("%s tag %q on cluster %q: %w", verb, l.key, l.cluster, err)
}

func (l *Locker) heldError(v value) *lock.HeldError {
	return &lock.HeldError{Name: l.name, Holder: v.owner, Since: v.since, Expires: l.observedAt(v).Add(l.leaseOf(v))}
}

// leaseOf is how long v stays valid unrenewed: as its holder wrote, or
// this Locker's own duration for a claim that does not say.
func (l *Locker) leaseOf(v value) time.Duration {
	if v.lease > 0 {
		return v.lease
	}
	return l.duration
}

// observedAt returns when this Locker first saw the claim v as it is now,
// on its own clock. The expiry inside the tag was written by another
// machine, whose clock may be minutes off ours, so it is never compared
// with our clock: a claim expires once it went unchanged (no renewal
// rewrote it) for its lease from the moment we first saw it.
func (l *Locker) observedAt(v value) time.Time {
	key := v.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen.key != key || l.seen.at.IsZero() {
		l.seen.key, l.seen.at = key, l.now()
	}
	return l.seen.at
}

// live reports whether v is a claim that has not expired for this Locker.
func (l *Locker) live(v value) bool {
	return v.token != "" && l.now().Sub(l.observedAt(v)) < l.leaseOf(v)
}

// cleanOwner makes owner fit ECS's tag value characters.
func cleanOwner(owner string) string { return ecstags.Clean(owner) }

// definite reports whether err is an answer from ECS that the write was
// not applied: an error with a code that is no server fault. A transport
// error or a 5xx may hide a write that was.
func definite(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() != "" && ae.ErrorFault() != smithy.FaultServer
}

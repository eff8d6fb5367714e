package ecstag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// held is the claim in the tag as lock.Hold renews, checks and clears it.
type held struct{ l *Locker }

var _ lock.Record[value] = held{}

// hold starts renewing v, written at sent, and returns the holding.
func (l *Locker) hold(ctx context.Context, v value, sent time.Time) lock.Lock {
	r := lock.Renewal{Name: l.name, Lease: l.duration, Every: l.renew, Clock: clock.Reading(l.now), Warn: l.warn}
	return lock.Hold(ctx, r, held{l}, v, sent)
}

func (l *Locker) lost(holder, reason string) error {
	return &lock.LostError{Name: l.name, Holder: holder, Reason: reason}
}

// Renew moves the claim's expiry on, once a read shows the tag still
// carries our token. A write that fails may still land: the tag then
// carries the new expiry with our token, which the next Renew and Check
// accept as ours.
func (h held) Renew(ctx context.Context, mine value) (value, time.Time, error) {
	l := h.l
	checked := time.Now()
	cur, err := l.read(ctx)
	switch {
	case err != nil:
		return value{}, time.Time{}, err
	case cur.token != mine.token:
		return value{}, time.Time{}, l.lost(cur.owner, "renewing found another claim in the tag")
	}
	sent := l.now()
	next := mine
	next.expires = sent.Add(l.duration).Truncate(time.Second)
	if err := l.write(ctx, checked, next); err != nil {
		return value{}, time.Time{}, err
	}
	return next, sent, nil
}

// Check reads the tag and fails unless it still carries our token.
func (h held) Check(ctx context.Context, mine value) error {
	cur, err := h.l.read(ctx)
	switch {
	case err != nil:
		return err
	case cur.token == "":
		return h.l.lost("", "the tag was removed")
	case cur.token != mine.token:
		return h.l.lost(cur.owner, "another run took it over")
	}
	return nil
}

// Clear removes the tag, but only while it still carries our token: a
// claim another run took over is left alone.
func (h held) Clear(ctx context.Context, mine value) error {
	l := h.l
	removed := false // a removal was sent, and may have landed
	for range maxRaces {
		checked := time.Now()
		cur, err := l.read(ctx)
		switch {
		case err != nil && awsapi.IsThrottle(err):
			if awsapi.Sleep(ctx, l.poll) != nil {
				return fmt.Errorf("releasing lock %q: %w", l.name, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("releasing lock %q: %w", l.name, err)
		case cur.token == "" && removed:
			return nil
		case cur.token != mine.token:
			return l.lost(cur.owner, "taken over or removed before release")
		}
		err = l.remove(ctx, checked)
		removed = true
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, errLate) && !awsapi.IsThrottle(err):
			return fmt.Errorf("releasing lock %q: %w", l.name, err)
		}
		if serr := awsapi.Sleep(ctx, l.poll); serr != nil {
			return fmt.Errorf("releasing lock %q: %w", l.name, err)
		}
	}
	return fmt.Errorf("releasing lock %q: gave up after %d slow or throttled attempts; the tag on %q lapses at %s",
		l.name, maxRaces, l.cluster, mine.expires.UTC().Format(time.RFC3339))
}

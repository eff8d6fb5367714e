package route53

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// restoreTimeout bounds putting the weights back after ctx has ended.
const restoreTimeout = time.Minute

// Set implements router.Router: one change batch gives every record the
// weight of its color's percentage, then Set waits until Route 53 reports
// the change INSYNC. It writes nothing when the records already send w's
// shares. A change made by someone else since the read fails the batch
// and is returned wrapped in router.ErrConflict. When the wait fails (its
// timeout, or ctx ending), the old weights are put back.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	if err := w.Check(); err != nil {
		return fmt.Errorf("setting the weights of record %q: %w", r.name, err)
	}
	groups, err := r.load(ctx)
	if err != nil {
		return err
	}
	upToDate := true
	for _, g := range groups {
		for _, c := range color.All {
			if id := aws.ToString(g.rec[c].TrafficPolicyInstanceId); id != "" {
				return fmt.Errorf("record %q %s %q is managed by traffic policy instance %q; change its weights through the traffic policy", r.name, g.typ, c, id)
			}
		}
		b, gr := g.weights()
		upToDate = upToDate && sameShare(b, gr, int64(w[color.Blue]), int64(w[color.Green]))
	}
	if upToDate {
		return nil
	}
	next := make([]group, len(groups))
	for i, g := range groups {
		next[i] = group{typ: g.typ, rec: map[color.Color]types.ResourceRecordSet{}}
		for _, c := range color.All {
			rr := g.rec[c]
			rr.Weight = aws.Int64(int64(w[c]))
			next[i].rec[c] = rr
		}
	}
	id, err := r.change(ctx, groups, next, "bluegreen: "+w.String())
	if err != nil {
		return err
	}
	if err := r.waitInSync(ctx, id); err != nil {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
		defer cancel()
		b, g := groups[0].weights()
		if _, uerr := r.change(bg, next, groups, "bluegreen: put back"); uerr != nil {
			return errors.Join(err, fmt.Errorf("putting the weights back to %s: %w", percent(b, g), uerr))
		}
		return fmt.Errorf("%w; the weights are back to %s", err, percent(b, g))
	}
	return nil
}

// change replaces the records from by the records to in one batch: each
// is deleted with the values read and created again. The delete fails
// when the record changed since it was read, and with it the whole batch.
// It returns the change's ID.
func (r *Router) change(ctx context.Context, from, to []group, comment string) (string, error) {
	var changes []types.Change
	for i := range from {
		for _, c := range color.All {
			old, rr := from[i].rec[c], to[i].rec[c]
			changes = append(changes,
				types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &old},
				types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &rr})
		}
	}
	out, err := r.cfg.API.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(r.cfg.HostedZoneID),
		ChangeBatch:  &types.ChangeBatch{Changes: changes, Comment: aws.String(comment)},
	})
	if err != nil {
		err = fmt.Errorf("changing the weights of record %q in hosted zone %q: %w", r.name, r.cfg.HostedZoneID, err)
		var invalid *types.InvalidChangeBatch
		if errors.As(err, &invalid) {
			// Tell a concurrent change from a batch that is wrong in itself.
			if now, lerr := r.load(ctx); lerr == nil && !reflect.DeepEqual(from, now) {
				return "", fmt.Errorf("%w: %w", router.ErrConflict, err)
			}
		}
		return "", err
	}
	return aws.ToString(out.ChangeInfo.Id), nil
}

// waitInSync polls change id until Route 53 reports it INSYNC: applied on
// all its name servers. Throttled polls (Throttling,
// PriorRequestNotComplete) are tried again.
func (r *Router) waitInSync(ctx context.Context, id string) error {
	deadline := r.now().Add(r.timeout)
	status := types.ChangeStatusPending
	for {
		out, err := r.cfg.API.GetChange(ctx, &r53.GetChangeInput{Id: aws.String(id)})
		switch {
		case err == nil:
			if status = out.ChangeInfo.Status; status == types.ChangeStatusInsync {
				return nil
			}
		case !awsapi.IsThrottle(err):
			return fmt.Errorf("reading change %q of record %q: %w", id, r.name, err)
		}
		if !r.now().Before(deadline) {
			return fmt.Errorf("change %q of record %q still %s after %s", id, r.name, status, r.timeout)
		}
		if err := r.pause(ctx, deadline); err != nil {
			return fmt.Errorf("waiting for change %q of record %q to be INSYNC: %w", id, r.name, err)
		}
	}
}

// pause sleeps about one poll interval (with jitter), never past
// deadline.
func (r *Router) pause(ctx context.Context, deadline time.Time) error {
	return r.sleep(ctx, max(0, min(awsapi.Interval(r.poll), deadline.Sub(r.now()))))
}

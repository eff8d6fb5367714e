package route53

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	clk "github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Type names this router in the router input.
const Type = "route53"

// route53API is the part of the Route 53 client the router uses.
type route53API interface {
	ListResourceRecordSets(context.Context, *r53.ListResourceRecordSetsInput, ...func(*r53.Options)) (*r53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *r53.ChangeResourceRecordSetsInput, ...func(*r53.Options)) (*r53.ChangeResourceRecordSetsOutput, error)
	GetChange(context.Context, *r53.GetChangeInput, ...func(*r53.Options)) (*r53.GetChangeOutput, error)
}

var (
	_ route53API    = (*r53.Client)(nil)
	_ router.Router = (*Router)(nil)
	_ router.Warner = (*Router)(nil)
)

// weightedTypes are the record types Route 53 allows in weighted records.
var weightedTypes = []string{"A", "AAAA", "CAA", "CNAME", "HTTPS", "MX", "NAPTR", "PTR", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"}

// Config holds what the router needs.
type Config struct {
	API route53API
	// HostedZoneID is the hosted zone, as "Z0123..." or "/hostedzone/Z0123...".
	HostedZoneID string
	// RecordName is the name clients resolve, such as "shop.example.com".
	RecordName string
	// RecordType limits the router to one type. Empty means every type
	// that has "blue" and "green" weighted records (A and AAAA for a dual
	// stack), all switched together.
	RecordType string
}

// Router implements router.Router with two weighted records.
type Router struct {
	cfg     Config
	name    string       // RecordName as Route 53 returns it
	typ     types.RRType // "" for every type
	poll    time.Duration
	timeout time.Duration
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	mu    sync.Mutex
	ttl   time.Duration // longest TTL of the records last read
	alias bool          // the records last read are alias records
}

// Option tunes a Router.
type Option func(*Router)

// WithPoll sets how often a change is checked while waiting for INSYNC
// (default awsapi.DefaultPoll, with jitter).
func WithPoll(d time.Duration) Option { return func(r *Router) { r.poll = d } }

// WithTimeout bounds the wait for a change to be INSYNC (default 5m).
func WithTimeout(d time.Duration) Option { return func(r *Router) { r.timeout = d } }

// WithClock replaces the clock that times the wait.
func WithClock(now func() time.Time) Option { return func(r *Router) { r.now = now } }

// WithSleep replaces how the router waits between polls. sleep returns
// early with an error when ctx ends.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(r *Router) { r.sleep = sleep }
}

// New returns the router for cfg.
func New(cfg Config, opts ...Option) (*Router, error) {
	r := &Router{cfg: cfg, poll: awsapi.DefaultPoll, timeout: 5 * time.Minute, now: time.Now, sleep: clk.Sleep}
	for _, o := range opts {
		o(r)
	}
	switch {
	case cfg.API == nil:
		return nil, errors.New("route53 router: no Route 53 client")
	case cfg.HostedZoneID == "":
		return nil, errors.New("route53 router: no hosted zone ID")
	case strings.Trim(cfg.RecordName, ".") == "":
		return nil, errors.New("route53 router: no record name")
	case r.poll <= 0 || r.timeout <= 0:
		return nil, fmt.Errorf("route53 router: poll interval %s and timeout %s must be positive", r.poll, r.timeout)
	}
	if t := strings.ToUpper(cfg.RecordType); t != "" {
		if !slices.Contains(weightedTypes, t) {
			return nil, fmt.Errorf("route53 router: record type %q cannot be weighted, valid types are %q", cfg.RecordType, weightedTypes)
		}
		r.typ = types.RRType(t)
	}
	r.name = dnsName(cfg.RecordName)
	return r, nil
}

// dnsName returns name as Route 53 lists it: lower case, "*" escaped, a
// trailing dot.
func dnsName(name string) string {
	name = strings.ToLower(strings.ReplaceAll(name, "*", `\052`))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// group is the pair of weighted records of one record type.
type group struct {
	typ types.RRType
	rec map[color.Color]types.ResourceRecordSet
}

func (g group) weights() (blue, green int64) {
	return aws.ToInt64(g.rec[color.Blue].Weight), aws.ToInt64(g.rec[color.Green].Weight)
}

// load lists the records of the name and returns the blue/green pair of
// each type, checking that both exist and that no other weighted record of
// the name takes traffic.
func (r *Router) load(ctx context.Context) ([]group, error) {
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(r.cfg.HostedZoneID), StartRecordName: aws.String(r.name), StartRecordType: r.typ}
	var found []types.ResourceRecordSet
	for {
		out, err := r.cfg.API.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing records %q in hosted zone %q: %w", r.name, r.cfg.HostedZoneID, err)
		}
		past := false
		for _, rr := range out.ResourceRecordSets {
			if dnsName(aws.ToString(rr.Name)) != r.name {
				past = true // the list is sorted by name: the rest are other names
				break
			}
			if r.typ == "" || rr.Type == r.typ {
				found = append(found, rr)
			}
		}
		if past || !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	return r.pair(found)
}

func (r *Router) pair(found []types.ResourceRecordSet) ([]group, error) {
	var groups []group
	byType := map[types.RRType]int{} // index in groups
	for _, rr := range found {
		c, err := color.Parse(aws.ToString(rr.SetIdentifier))
		if err != nil {
			continue
		}
		if rr.Weight == nil {
			return nil, fmt.Errorf("record %q %s %q is not a weighted record; bluegreen switches weighted records", r.name, rr.Type, c)
		}
		i, ok := byType[rr.Type]
		if !ok {
			i = len(groups)
			byType[rr.Type] = i
			groups = append(groups, group{typ: rr.Type, rec: map[color.Color]types.ResourceRecordSet{}})
		}
		groups[i].rec[c] = rr
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("hosted zone %q has no weighted records %q with set identifiers \"blue\" and \"green\"%s; create them, each pointing at one color",
			r.cfg.HostedZoneID, r.name, r.ofType())
	}
	for i := range groups {
		g := &groups[i]
		for _, c := range color.All {
			if _, ok := g.rec[c]; !ok {
				return nil, fmt.Errorf("record %q %s in hosted zone %q has no weighted record with set identifier %q; create it, pointing at the %s color",
					r.name, g.typ, r.cfg.HostedZoneID, c, c)
			}
		}
	}
	for _, rr := range found {
		_, ours := byType[rr.Type]
		if _, err := color.Parse(aws.ToString(rr.SetIdentifier)); err != nil && ours && aws.ToInt64(rr.Weight) > 0 {
			return nil, fmt.Errorf("record %q %s also has weighted record %q with weight %d, which takes traffic bluegreen does not manage; set its weight to 0 or delete it",
				r.name, rr.Type, aws.ToString(rr.SetIdentifier), aws.ToInt64(rr.Weight))
		}
	}
	r.remember(groups)
	return groups, nil
}

func (r *Router) ofType() string {
	if r.typ == "" {
		return ""
	}
	return " of type " + string(r.typ)
}

// remember keeps the TTL of the records just read for Warning.
func (r *Router) remember(groups []group) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ttl, r.alias = 0, false
	for _, g := range groups {
		for _, rr := range g.rec {
			r.ttl = max(r.ttl, time.Duration(aws.ToInt64(rr.TTL))*time.Second)
			r.alias = r.alias || rr.AliasTarget != nil
		}
	}
}

// percent maps Route 53 weights to percentages. Two zero weights make
// Route 53 answer with both records equally. A color with a weight above
// zero gets at least 1%, so that a small share is never read as none.
func percent(blue, green int64) router.Weights {
	if blue == 0 && green == 0 {
		return router.Weights{color.Blue: 50, color.Green: 50}
	}
	p := int((200*blue + blue + green) / (2 * (blue + green)))
	switch {
	case blue > 0 && p == 0:
		p = 1
	case green > 0 && p == 100:
		p = 99
	}
	return router.Weights{color.Blue: p, color.Green: 100 - p}
}

// sameShare reports whether weights (b1, g1) and (b2, g2) send the same
// share of queries to each color.
func sameShare(b1, g1, b2, g2 int64) bool {
	if b1 == 0 && g1 == 0 {
		b1, g1 = 1, 1
	}
	if b2 == 0 && g2 == 0 {
		b2, g2 = 1, 1
	}
	return b1*g2 == b2*g1
}

// Read implements router.Router. With several record types, all must
// send the same shares.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	groups, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	b, g := groups[0].weights()
	for _, o := range groups[1:] {
		if ob, og := o.weights(); !sameShare(b, g, ob, og) {
			return nil, fmt.Errorf("record %q: its %s records send %s but its %s records send %s; make them agree (or let bluegreen set them)",
				r.name, groups[0].typ, percent(b, g), o.typ, percent(ob, og))
		}
	}
	return percent(b, g), nil
}

// Verify implements router.Router. Route 53 cannot tell whether a color's
// endpoint serves; a Route 53 health check on the record could, but
// bluegreen does not read health check status, so Verify returns an error
// wrapping errors.ErrUnsupported once the color's records exist.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	groups, err := r.load(ctx)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if id := aws.ToString(g.rec[c].HealthCheckId); id != "" {
			return fmt.Errorf("record %q %s %q has Route 53 health check %q, whose status bluegreen does not read: %w", r.name, g.typ, c, id, errors.ErrUnsupported)
		}
	}
	return fmt.Errorf("record %q: Route 53 cannot tell whether %s's endpoint serves: %w", r.name, c, errors.ErrUnsupported)
}

// TTL returns the longest TTL of the records as last read by Read, Set or
// Verify; zero before the first read and for alias records, which take
// their target's TTL.
func (r *Router) TTL() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ttl
}

// Warning implements router.Warner: what the user must know after a switch: clients and
// resolvers may keep answering with the old color for the record's TTL.
// It is empty before the first read.
func (r *Router) Warning() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.ttl > 0:
		return fmt.Sprintf("clients may keep the old answer for the record's TTL (%d s); the old color must stay up at least that long", int(r.ttl.Seconds()))
	case r.alias:
		return "clients may keep the old answer for the TTL of the alias target (60 s for a load balancer); the old color must stay up at least that long"
	}
	return ""
}

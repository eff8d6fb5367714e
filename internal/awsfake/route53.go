package awsfake

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
)

// Route53 is a double of the Amazon Route 53 record API for hosted zones:
// ListResourceRecordSets with its paging and sort order,
// ChangeResourceRecordSets applied as one transaction after validation,
// and GetChange, which reports a change PENDING for SyncAfter calls and
// then INSYNC. Errors are the SDK's own types, wrapped in
// *smithy.OperationError as the client returns them. It is safe for
// concurrent use.
type Route53 struct {
	recorder
	// SyncAfter is how many GetChange calls see a change PENDING before it
	// is INSYNC. Set it before use.
	SyncAfter int
	// PageSize caps the records of one ListResourceRecordSets page below
	// Route 53's 300, to exercise paging. Zero means 300.
	PageSize int

	mu       sync.Mutex
	zones    map[string]*r53Zone
	changes  map[string]int // change ID -> GetChange calls so far
	throttle map[string]int
	faults   map[string][]error
	batches  []types.ChangeBatch
}

type r53Zone struct {
	name    string
	records []types.ResourceRecordSet // sorted as Route 53 lists them
}

// NewRoute53 returns a Route53 double with no hosted zones.
func NewRoute53() *Route53 {
	return &Route53{
		recorder: recorder{service: "Route 53", throttle: "Throttling"},
		zones:    map[string]*r53Zone{},
		changes:  map[string]int{},
		throttle: map[string]int{},
		faults:   map[string][]error{},
	}
}

// AddZone creates the hosted zone id for the domain name with records, as
// if made outside the code under test. Records are stored as given.
func (f *Route53) AddZone(id, name string, records ...types.ResourceRecordSet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := &r53Zone{name: r53Name(name)}
	for _, rr := range records {
		rr.Name = aws.String(r53Name(aws.ToString(rr.Name)))
		z.records = append(z.records, rr)
	}
	slices.SortFunc(z.records, r53Compare)
	f.zones[r53ID(id)] = z
}

// Records returns the records of hosted zone id, as Route 53 lists them.
func (f *Route53) Records(id string) []types.ResourceRecordSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	if z, ok := f.zones[r53ID(id)]; ok {
		return slices.Clone(z.records)
	}
	return nil
}

// Batches returns the change batches the double accepted, in order.
func (f *Route53) Batches() []types.ChangeBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

// Throttle makes the next n calls of operation (its SDK name) fail with
// the code Throttling, as Route 53 does when the request rate is exceeded.
func (f *Route53) Throttle(operation string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle[operation] = n
}

// Fail makes the next call of operation fail with err, once per call of
// Fail, before it changes anything: for example
// &types.PriorRequestNotComplete{}.
func (f *Route53) Fail(operation string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[operation] = append(f.faults[operation], err)
}

// begin records a call and returns the error it must fail with, if any.
// The caller holds f.mu.
func (f *Route53) begin(op string) error {
	if err := f.call(op); err != nil {
		return err
	}
	if f.throttle[op] > 0 {
		f.throttle[op]--
		return f.fail(op, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded", Fault: smithy.FaultClient})
	}
	if q := f.faults[op]; len(q) > 0 {
		f.faults[op] = q[1:]
		return f.fail(op, q[0])
	}
	return nil
}

func (f *Route53) zone(op string, id *string) (*r53Zone, error) {
	z, ok := f.zones[r53ID(aws.ToString(id))]
	if !ok {
		return nil, f.fail(op, &types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: " + r53ID(aws.ToString(id)))})
	}
	return z, nil
}

// ListResourceRecordSets lists records in Route 53's order (name with its
// labels reversed, then type, then set identifier) from the start given,
// at most MaxItems (300) at a time.
func (f *Route53) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	const op = "ListResourceRecordSets"
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(op); err != nil {
		return nil, err
	}
	z, err := f.zone(op, in.HostedZoneId)
	if err != nil {
		return nil, err
	}
	if in.StartRecordType != "" && in.StartRecordName == nil || in.StartRecordIdentifier != nil && in.StartRecordType == "" {
		return nil, f.fail(op, &types.InvalidInput{Message: aws.String("StartRecordType needs StartRecordName, and StartRecordIdentifier needs StartRecordType")})
	}
	size := 300
	if f.PageSize > 0 {
		size = f.PageSize
	}
	if in.MaxItems != nil && int(*in.MaxItems) < size {
		size = int(*in.MaxItems)
	}
	from := 0
	if in.StartRecordName != nil {
		start := types.ResourceRecordSet{Name: aws.String(r53Name(*in.StartRecordName)), Type: in.StartRecordType, SetIdentifier: in.StartRecordIdentifier}
		from, _ = slices.BinarySearchFunc(z.records, start, r53Compare)
	}
	end := min(from+size, len(z.records))
	out := &route53.ListResourceRecordSetsOutput{ResourceRecordSets: slices.Clone(z.records[from:end]), MaxItems: aws.Int32(int32(size))}
	if end < len(z.records) {
		next := z.records[end]
		out.IsTruncated, out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = true, next.Name, next.Type, next.SetIdentifier
	}
	return out, nil
}

// ChangeResourceRecordSets validates the batch and applies it in order
// as one transaction: when any change is invalid, none is made and the
// call fails with InvalidChangeBatch listing the problems. DELETE must
// name a record with all its current values, CREATE must not find one,
// UPSERT creates or replaces.
func (f *Route53) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	const op = "ChangeResourceRecordSets"
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(op); err != nil {
		return nil, err
	}
	z, err := f.zone(op, in.HostedZoneId)
	if err != nil {
		return nil, err
	}
	if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 {
		return nil, f.fail(op, &types.InvalidInput{Message: aws.String("ChangeBatch must have at least one change")})
	}
	records := slices.Clone(z.records)
	var problems []string
	for _, c := range in.ChangeBatch.Changes {
		if c.ResourceRecordSet == nil {
			problems = append(problems, "a change has no ResourceRecordSet")
			continue
		}
		rr := *c.ResourceRecordSet
		rr.Name = aws.String(r53Name(aws.ToString(rr.Name)))
		desc := fmt.Sprintf("resource record set [name='%s', type='%s'%s]", *rr.Name, rr.Type, r53SetID(rr))
		i := slices.IndexFunc(records, func(o types.ResourceRecordSet) bool { return r53Compare(o, rr) == 0 })
		if p := r53Check(z, rr, records); p != "" && c.Action != types.ChangeActionDelete {
			problems = append(problems, p)
			continue
		}
		switch c.Action {
		case types.ChangeActionCreate:
			if i >= 0 {
				problems = append(problems, fmt.Sprintf("Tried to create %s but it already exists", desc))
				continue
			}
			records = append(records, rr)
		case types.ChangeActionUpsert:
			if i >= 0 {
				records[i] = rr
			} else {
				records = append(records, rr)
			}
		case types.ChangeActionDelete:
			if i < 0 {
				problems = append(problems, fmt.Sprintf("Tried to delete %s but it was not found", desc))
				continue
			}
			if !reflect.DeepEqual(records[i], rr) {
				problems = append(problems, fmt.Sprintf("Tried to delete %s but the values provided do not match the current values", desc))
				continue
			}
			records = slices.Delete(records, i, i+1)
		default:
			problems = append(problems, fmt.Sprintf("unknown action %q", c.Action))
		}
		slices.SortFunc(records, r53Compare)
	}
	if len(problems) > 0 {
		return nil, f.fail(op, &types.InvalidChangeBatch{Message: aws.String(strings.Join(problems, "; ")), Messages: problems})
	}
	z.records = records
	f.batches = append(f.batches, *in.ChangeBatch)
	id := fmt.Sprintf("/change/C%04d", len(f.batches))
	f.changes[r53ID(id)] = 0
	return &route53.ChangeResourceRecordSetsOutput{ChangeInfo: &types.ChangeInfo{Id: aws.String(id), Status: types.ChangeStatusPending, Comment: in.ChangeBatch.Comment}}, nil
}

// r53Check returns what is wrong with rr for CREATE or UPSERT in zone z,
// next to records, or "".
func r53Check(z *r53Zone, rr types.ResourceRecordSet, records []types.ResourceRecordSet) string {
	name := *rr.Name
	switch {
	case rr.Type == "":
		return fmt.Sprintf("record %s has no type", name)
	case name != z.name && !strings.HasSuffix(name, "."+z.name):
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.name)
	case (rr.Weight == nil) != (rr.SetIdentifier == nil):
		return fmt.Sprintf("Invalid request: a weighted record needs both Weight and SetIdentifier (record %s %s)", name, rr.Type)
	case rr.Weight != nil && (*rr.Weight < 0 || *rr.Weight > 255):
		return fmt.Sprintf("Invalid request: Weight %d of record %s %s is not between 0 and 255", *rr.Weight, name, rr.Type)
	case rr.AliasTarget != nil && (rr.TTL != nil || len(rr.ResourceRecords) > 0):
		return fmt.Sprintf("Invalid request: an alias record has neither TTL nor ResourceRecords (record %s %s)", name, rr.Type)
	case rr.AliasTarget == nil && (rr.TTL == nil || len(rr.ResourceRecords) == 0):
		return fmt.Sprintf("Invalid request: record %s %s needs a TTL and ResourceRecords", name, rr.Type)
	}
	for _, o := range records {
		if *o.Name == name && o.Type == rr.Type && (o.SetIdentifier == nil) != (rr.SetIdentifier == nil) {
			return fmt.Sprintf("RRSet of type %s with DNS name %s cannot mix a simple record and records with a routing policy", rr.Type, name)
		}
	}
	return ""
}

// GetChange reports a change PENDING for the first SyncAfter calls, then
// INSYNC.
func (f *Route53) GetChange(_ context.Context, in *route53.GetChangeInput, _ ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	const op = "GetChange"
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(op); err != nil {
		return nil, err
	}
	id := r53ID(aws.ToString(in.Id))
	n, ok := f.changes[id]
	if !ok {
		return nil, f.fail(op, &types.NoSuchChange{Message: aws.String("A change with the specified change ID does not exist: " + id)})
	}
	f.changes[id] = n + 1
	status := types.ChangeStatusPending
	if n >= f.SyncAfter {
		status = types.ChangeStatusInsync
	}
	return &route53.GetChangeOutput{ChangeInfo: &types.ChangeInfo{Id: aws.String("/change/" + id), Status: status}}, nil
}

// r53ID strips the "/hostedzone/" or "/change/" prefix, which the SDK
// also strips from its input.
func r53ID(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}

// r53Name returns a DNS name as Route 53 returns it: lower case, with a
// trailing dot, "*" as "\052".
func r53Name(name string) string {
	name = strings.ToLower(strings.ReplaceAll(name, "*", `\052`))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// r53Compare orders records as ListResourceRecordSets does: by name with
// its labels reversed, then by type, then by set identifier.
func r53Compare(a, b types.ResourceRecordSet) int {
	return cmp.Or(
		cmp.Compare(r53Reversed(aws.ToString(a.Name)), r53Reversed(aws.ToString(b.Name))),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(aws.ToString(a.SetIdentifier), aws.ToString(b.SetIdentifier)),
	)
}

func r53Reversed(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "."
}

func r53SetID(rr types.ResourceRecordSet) string {
	if rr.SetIdentifier == nil {
		return ""
	}
	return fmt.Sprintf(", set-identifier='%s'", *rr.SetIdentifier)
}

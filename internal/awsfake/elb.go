package awsfake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/smithy-go"
)

// elbDefaultSSLPolicy is the security policy classic ELB attaches to an
// HTTPS or SSL listener created without one.
const elbDefaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// ELB is a double of the classic Elastic Load Balancing API: load
// balancers with tags, listeners (with their policies), one health check
// each and registered instances whose state follows the health check.
//
// An instance's state is not set by the test: the test says which
// instance ports answer health checks (SetHealthy), and the state follows
// the load balancer's health check as AWS documents it. A change of the
// health check or of an instance's health flips the state only after
// HealthyThreshold (or UnhealthyThreshold) checks of Interval seconds, on
// the clock Now. So an instance stays InService for a while after the
// health check is pointed at a port that does not answer, as it does on
// AWS, and code that trusts the first answer is caught out.
//
// Errors are the SDK's own types, wrapped in *smithy.OperationError as
// the client returns them. It is safe for concurrent use.
type ELB struct {
	recorder
	// Now is the double's clock. When nil, the double keeps its own, which
	// moves only by Advance: never by the wall clock. Set it before use.
	Now func() time.Time

	mu       sync.Mutex
	clock    time.Time
	lbs      map[string]*elbLB
	certs    map[string]bool
	throttle map[string]int
	faults   map[string][]error
	log      []ELBCall
}

// ELBLoadBalancer describes a load balancer of the ELB double.
type ELBLoadBalancer struct {
	Name string
	Tags map[string]string
	// Listeners are the load balancer's listeners with their policies.
	Listeners   []types.ListenerDescription
	HealthCheck types.HealthCheck
	// Instances are the IDs of the registered instances.
	Instances []string
	// HealthyPorts are the instance ports at which every instance answers
	// health checks when the load balancer is added.
	HealthyPorts []int32
}

// ELBCall is one write the ELB double accepted.
type ELBCall struct {
	Op     string
	Detail string
	At     time.Time
}

type elbLB struct {
	name      string
	tags      map[string]string
	listeners map[int32]types.ListenerDescription
	policies  map[string]bool // policies defined on the load balancer
	hc        types.HealthCheck
	instances []*elbInstance
}

// elbInstance holds an instance's state as of since; its state now
// follows from the health check and healthy.
type elbInstance struct {
	id        string
	healthy   map[int32]bool
	inService bool
	since     time.Time
}

// NewELB returns an ELB double with no load balancers.
func NewELB() *ELB {
	return &ELB{
		recorder: recorder{service: "Elastic Load Balancing", throttle: "Throttling"},
		clock:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		lbs:      map[string]*elbLB{},
		certs:    map[string]bool{},
		throttle: map[string]int{},
		faults:   map[string][]error{},
	}
}

// Advance moves the double's own clock (used when Now is nil) by d.
func (f *ELB) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(d)
}

// now returns the time. The caller holds f.mu.
func (f *ELB) now() time.Time {
	if f.Now == nil {
		return f.clock
	}
	return f.Now()
}

// AddLoadBalancer creates a load balancer as if made outside the code
// under test. The certificates and policies of its listeners become known
// to the double. Instances start InService when the health check's port
// is healthy, OutOfService otherwise.
func (f *ELB) AddLoadBalancer(lb ELBLoadBalancer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &elbLB{name: lb.Name, tags: maps.Clone(lb.Tags), listeners: map[int32]types.ListenerDescription{}, policies: map[string]bool{}, hc: lb.HealthCheck}
	for _, ld := range lb.Listeners {
		l := *ld.Listener
		s.listeners[l.LoadBalancerPort] = types.ListenerDescription{Listener: &l, PolicyNames: slices.Clone(ld.PolicyNames)}
		if l.SSLCertificateId != nil {
			f.certs[*l.SSLCertificateId] = true
		}
		for _, p := range ld.PolicyNames {
			s.policies[p] = true
		}
	}
	hcPort, _ := elbTargetPort(aws.ToString(lb.HealthCheck.Target))
	for _, id := range lb.Instances {
		in := &elbInstance{id: id, healthy: map[int32]bool{}, since: f.now()}
		for _, p := range lb.HealthyPorts {
			in.healthy[p] = true
		}
		in.inService = in.healthy[hcPort]
		s.instances = append(s.instances, in)
	}
	f.lbs[lb.Name] = s
}

// SetHealthy says whether instances (all of them when none are named)
// answer health checks on port. Their state follows after the thresholds.
func (f *ELB) SetHealthy(name string, port int32, healthy bool, instances ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb := f.lbs[name]
	lb.change(f.now(), func() {
		for _, in := range lb.instances {
			if len(instances) == 0 || slices.Contains(instances, in.id) {
				in.healthy[port] = healthy
			}
		}
	})
}

// RemoveCertificate makes certificate id unknown, as when it is deleted
// from IAM or ACM: listeners keep it, new listeners cannot use it.
func (f *ELB) RemoveCertificate(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.certs, id)
}

// LoadBalancer returns a copy of the load balancer called name.
func (f *ELB) LoadBalancer(name string) (ELBLoadBalancer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, ok := f.lbs[name]
	if !ok {
		return ELBLoadBalancer{}, false
	}
	return lb.describe(), true
}

// Throttle makes the next n calls of operation (its SDK name, such as
// "DescribeInstanceHealth") fail with the code Throttling, as classic ELB
// does when the request rate is exceeded.
func (f *ELB) Throttle(operation string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle[operation] = n
}

// Fail makes the next call of operation fail with err, once per call of
// Fail, before it changes anything.
func (f *ELB) Fail(operation string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[operation] = append(f.faults[operation], err)
}

// Writes returns the writes the double accepted, in order.
func (f *ELB) Writes() []ELBCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// begin records a call of op and returns the error it must fail with, if
// any. The caller holds f.mu.
func (f *ELB) begin(op string) error {
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

// lookup returns the load balancer called name. The caller holds f.mu.
func (f *ELB) lookup(op, name string) (*elbLB, error) {
	lb, ok := f.lbs[name]
	if !ok {
		return nil, f.fail(op, &types.AccessPointNotFoundException{Message: aws.String(fmt.Sprintf("There is no ACTIVE Load Balancer named '%s'", name))})
	}
	return lb, nil
}

// start begins a call of op on the load balancer called name.
func (f *ELB) start(op, name string) (*elbLB, error) {
	if err := f.begin(op); err != nil {
		return nil, err
	}
	return f.lookup(op, name)
}

func (f *ELB) record(op, detail string) {
	f.log = append(f.log, ELBCall{Op: op, Detail: detail, At: f.now()})
}

// DescribeLoadBalancers describes the named load balancers; every name
// must exist.
func (f *ELB) DescribeLoadBalancers(_ context.Context, in *elb.DescribeLoadBalancersInput, _ ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeLoadBalancers"); err != nil {
		return nil, err
	}
	out := &elb.DescribeLoadBalancersOutput{}
	for _, name := range in.LoadBalancerNames {
		lb, err := f.lookup("DescribeLoadBalancers", name)
		if err != nil {
			return nil, err
		}
		d := lb.describe()
		desc := types.LoadBalancerDescription{LoadBalancerName: aws.String(d.Name), ListenerDescriptions: d.Listeners, HealthCheck: &d.HealthCheck}
		for _, id := range d.Instances {
			desc.Instances = append(desc.Instances, types.Instance{InstanceId: aws.String(id)})
		}
		out.LoadBalancerDescriptions = append(out.LoadBalancerDescriptions, desc)
	}
	return out, nil
}

// DescribeTags returns the tags of up to 20 named load balancers.
func (f *ELB) DescribeTags(_ context.Context, in *elb.DescribeTagsInput, _ ...func(*elb.Options)) (*elb.DescribeTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeTags"); err != nil {
		return nil, err
	}
	if n := len(in.LoadBalancerNames); n == 0 || n > 20 {
		return nil, f.fail("DescribeTags", elbValidation("LoadBalancerNames must have between 1 and 20 members"))
	}
	out := &elb.DescribeTagsOutput{}
	for _, name := range in.LoadBalancerNames {
		lb, err := f.lookup("DescribeTags", name)
		if err != nil {
			return nil, err
		}
		td := types.TagDescription{LoadBalancerName: aws.String(name)}
		for _, k := range slices.Sorted(maps.Keys(lb.tags)) {
			td.Tags = append(td.Tags, types.Tag{Key: aws.String(k), Value: aws.String(lb.tags[k])})
		}
		out.TagDescriptions = append(out.TagDescriptions, td)
	}
	return out, nil
}

// DescribeInstanceHealth returns the state of every registered instance
// (instances named in the input are not filtered: the project never names
// them).
func (f *ELB) DescribeInstanceHealth(_ context.Context, in *elb.DescribeInstanceHealthInput, _ ...func(*elb.Options)) (*elb.DescribeInstanceHealthOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.start("DescribeInstanceHealth", aws.ToString(in.LoadBalancerName))
	if err != nil {
		return nil, err
	}
	now := f.now()
	out := &elb.DescribeInstanceHealthOutput{}
	for _, i := range lb.instances {
		ok, why := lb.state(i, now)
		st := types.InstanceState{InstanceId: aws.String(i.id), State: aws.String("InService"), ReasonCode: aws.String("N/A"), Description: aws.String("N/A")}
		if !ok {
			st.State, st.ReasonCode, st.Description = aws.String("OutOfService"), aws.String("Instance"), aws.String(why)
		}
		out.InstanceStates = append(out.InstanceStates, st)
	}
	return out, nil
}

// ConfigureHealthCheck replaces the health check, within the documented
// limits. Instance states change only after the thresholds, from now.
func (f *ELB) ConfigureHealthCheck(_ context.Context, in *elb.ConfigureHealthCheckInput, _ ...func(*elb.Options)) (*elb.ConfigureHealthCheckOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.start("ConfigureHealthCheck", aws.ToString(in.LoadBalancerName))
	if err != nil {
		return nil, err
	}
	if err := elbCheckHealthCheck(in.HealthCheck); err != nil {
		return nil, f.fail("ConfigureHealthCheck", err)
	}
	lb.change(f.now(), func() { lb.hc = *in.HealthCheck })
	f.record("ConfigureHealthCheck", aws.ToString(in.HealthCheck.Target))
	return &elb.ConfigureHealthCheckOutput{HealthCheck: in.HealthCheck}, nil
}

// CreateLoadBalancerListeners creates listeners. A listener on a port that
// has one already must match it exactly (then nothing changes); otherwise
// the call fails with DuplicateListener, as AWS documents: an instance
// port cannot be changed in place.
func (f *ELB) CreateLoadBalancerListeners(_ context.Context, in *elb.CreateLoadBalancerListenersInput, _ ...func(*elb.Options)) (*elb.CreateLoadBalancerListenersOutput, error) {
	const op = "CreateLoadBalancerListeners"
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.start(op, aws.ToString(in.LoadBalancerName))
	if err != nil {
		return nil, err
	}
	var add []types.Listener
	for _, l := range in.Listeners {
		l, err := f.checkListener(lb, l)
		if err != nil {
			return nil, f.fail(op, err)
		}
		if old, ok := lb.listeners[l.LoadBalancerPort]; ok {
			if !elbSameListener(*old.Listener, l) {
				return nil, f.fail(op, &types.DuplicateListenerException{Message: aws.String(fmt.Sprintf("A listener already exists for %s with LoadBalancerPort %d, but with a different InstancePort, Protocol, or SSLCertificateId", lb.name, l.LoadBalancerPort))})
			}
			continue
		}
		add = append(add, l)
	}
	for _, l := range add {
		ld := types.ListenerDescription{Listener: &l}
		if p := *l.Protocol; p == "HTTPS" || p == "SSL" {
			ld.PolicyNames = []string{elbDefaultSSLPolicy}
			lb.policies[elbDefaultSSLPolicy] = true
		}
		lb.listeners[l.LoadBalancerPort] = ld
		detail := fmt.Sprintf("%d %s -> %s:%d", l.LoadBalancerPort, *l.Protocol, *l.InstanceProtocol, *l.InstancePort)
		if l.SSLCertificateId != nil {
			detail += " " + *l.SSLCertificateId
		}
		f.record(op, detail)
	}
	return &elb.CreateLoadBalancerListenersOutput{}, nil
}

// checkListener validates l against the documented constraints and
// returns it with its defaults filled in.
func (f *ELB) checkListener(lb *elbLB, l types.Listener) (types.Listener, error) {
	if l.Protocol == nil || l.InstancePort == nil || l.LoadBalancerPort < 1 || l.LoadBalancerPort > 65535 || *l.InstancePort < 1 || *l.InstancePort > 65535 {
		return l, elbValidation("a listener needs Protocol, LoadBalancerPort and InstancePort (1-65535)")
	}
	l.Protocol = aws.String(strings.ToUpper(*l.Protocol))
	if l.InstanceProtocol == nil {
		l.InstanceProtocol = l.Protocol
	}
	l.InstanceProtocol = aws.String(strings.ToUpper(*l.InstanceProtocol))
	front, back := elbLayer(*l.Protocol), elbLayer(*l.InstanceProtocol)
	if front == "" || back == "" {
		return l, &types.UnsupportedProtocolException{Message: aws.String("protocol must be HTTP, HTTPS, TCP or SSL")}
	}
	if front != back {
		return l, &types.InvalidConfigurationRequestException{Message: aws.String(fmt.Sprintf("front-end protocol %s does not go with back-end protocol %s", *l.Protocol, *l.InstanceProtocol))}
	}
	if elbSecure(*l.Protocol) {
		if l.SSLCertificateId == nil {
			return l, elbValidation(fmt.Sprintf("an %s listener needs SSLCertificateId", *l.Protocol))
		}
		if !f.certs[*l.SSLCertificateId] {
			return l, &types.CertificateNotFoundException{Message: aws.String("Server Certificate not found for the key: " + *l.SSLCertificateId)}
		}
	}
	for _, o := range lb.listeners {
		if o.Listener.LoadBalancerPort != l.LoadBalancerPort && *o.Listener.InstancePort == *l.InstancePort && elbSecure(*o.Listener.InstanceProtocol) != elbSecure(*l.InstanceProtocol) {
			return l, &types.InvalidConfigurationRequestException{Message: aws.String(fmt.Sprintf("instance port %d is used with instance protocol %s by the listener on port %d", *l.InstancePort, *o.Listener.InstanceProtocol, o.Listener.LoadBalancerPort))}
		}
	}
	return l, nil
}

// DeleteLoadBalancerListeners deletes the listeners on the given ports
// with their policy associations (the policies stay defined). A port with
// no listener is not an error.
func (f *ELB) DeleteLoadBalancerListeners(_ context.Context, in *elb.DeleteLoadBalancerListenersInput, _ ...func(*elb.Options)) (*elb.DeleteLoadBalancerListenersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.start("DeleteLoadBalancerListeners", aws.ToString(in.LoadBalancerName))
	if err != nil {
		return nil, err
	}
	for _, p := range in.LoadBalancerPorts {
		delete(lb.listeners, p)
		f.record("DeleteLoadBalancerListeners", strconv.Itoa(int(p)))
	}
	return &elb.DeleteLoadBalancerListenersOutput{}, nil
}

// SetLoadBalancerPoliciesOfListener replaces the policies of the listener
// on a port; each must be defined on the load balancer.
func (f *ELB) SetLoadBalancerPoliciesOfListener(_ context.Context, in *elb.SetLoadBalancerPoliciesOfListenerInput, _ ...func(*elb.Options)) (*elb.SetLoadBalancerPoliciesOfListenerOutput, error) {
	const op = "SetLoadBalancerPoliciesOfListener"
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.start(op, aws.ToString(in.LoadBalancerName))
	if err != nil {
		return nil, err
	}
	ld, ok := lb.listeners[in.LoadBalancerPort]
	if !ok {
		return nil, f.fail(op, &types.ListenerNotFoundException{Message: aws.String(fmt.Sprintf("There is no listener on port %d", in.LoadBalancerPort))})
	}
	for _, p := range in.PolicyNames {
		if !lb.policies[p] {
			return nil, f.fail(op, &types.PolicyNotFoundException{Message: aws.String("There is no policy with name " + p)})
		}
	}
	ld.PolicyNames = slices.Clone(in.PolicyNames)
	lb.listeners[in.LoadBalancerPort] = ld
	f.record(op, fmt.Sprintf("%d %s", in.LoadBalancerPort, strings.Join(in.PolicyNames, ",")))
	return &elb.SetLoadBalancerPoliciesOfListenerOutput{}, nil
}

// change applies mutate, a change of the health check or of instances'
// health, at now. An instance whose health as checked changes with it
// keeps its current state until the thresholds are met from now on.
func (lb *elbLB) change(now time.Time, mutate func()) {
	type snap struct {
		healthy, inService bool
	}
	before := make([]snap, len(lb.instances))
	for n, i := range lb.instances {
		before[n].healthy = lb.checked(i)
		before[n].inService, _ = lb.state(i, now)
	}
	mutate()
	for n, i := range lb.instances {
		if lb.checked(i) != before[n].healthy {
			i.inService, i.since = before[n].inService, now
		}
	}
}

// checked reports whether instance i answers the health check.
func (lb *elbLB) checked(i *elbInstance) bool {
	port, _ := elbTargetPort(aws.ToString(lb.hc.Target))
	return i.healthy[port]
}

// state returns whether instance i is InService at now, and why not.
func (lb *elbLB) state(i *elbInstance, now time.Time) (bool, string) {
	healthy := lb.checked(i)
	interval := time.Duration(aws.ToInt32(lb.hc.Interval)) * time.Second
	switch {
	case healthy == i.inService:
		if !healthy {
			return false, "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."
		}
		return true, ""
	case healthy:
		if now.Sub(i.since) >= time.Duration(aws.ToInt32(lb.hc.HealthyThreshold))*interval {
			return true, ""
		}
		return false, "Instance has not passed the configured HealthyThreshold number of health checks consecutively."
	default:
		if now.Sub(i.since) >= time.Duration(aws.ToInt32(lb.hc.UnhealthyThreshold))*interval {
			return false, "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."
		}
		return true, ""
	}
}

func (lb *elbLB) describe() ELBLoadBalancer {
	d := ELBLoadBalancer{Name: lb.name, Tags: maps.Clone(lb.tags), HealthCheck: lb.hc}
	for _, p := range slices.Sorted(maps.Keys(lb.listeners)) {
		l := *lb.listeners[p].Listener
		d.Listeners = append(d.Listeners, types.ListenerDescription{Listener: &l, PolicyNames: slices.Clone(lb.listeners[p].PolicyNames)})
	}
	for _, i := range lb.instances {
		d.Instances = append(d.Instances, i.id)
	}
	return d
}

func elbCheckHealthCheck(hc *types.HealthCheck) error {
	if hc == nil || hc.Target == nil || hc.Interval == nil || hc.Timeout == nil || hc.HealthyThreshold == nil || hc.UnhealthyThreshold == nil {
		return elbValidation("HealthCheck needs Target, Interval, Timeout, HealthyThreshold and UnhealthyThreshold")
	}
	if _, err := elbTargetPort(*hc.Target); err != nil {
		return elbValidation(err.Error())
	}
	switch in, to := *hc.Interval, *hc.Timeout; {
	case in < 5 || in > 300:
		return elbValidation("Interval must be between 5 and 300")
	case to < 2 || to > 60:
		return elbValidation("Timeout must be between 2 and 60")
	case to >= in:
		return elbValidation("HealthCheck Timeout must be less than Interval")
	}
	for _, t := range []int32{*hc.HealthyThreshold, *hc.UnhealthyThreshold} {
		if t < 2 || t > 10 {
			return elbValidation("thresholds must be between 2 and 10")
		}
	}
	return nil
}

// elbTargetPort returns the port of a health check target such as
// "HTTP:31001/healthz" or "TCP:5000".
func elbTargetPort(target string) (int32, error) {
	proto, rest, _ := strings.Cut(target, ":")
	port, _, hasPath := strings.Cut(rest, "/")
	n, err := strconv.Atoi(port)
	switch {
	case elbLayer(proto) == "" || err != nil || n < 1 || n > 65535:
		return 0, fmt.Errorf("health check target %q is not PROTOCOL:PORT[/PATH]", target)
	case (proto == "HTTP" || proto == "HTTPS") && !hasPath:
		return 0, fmt.Errorf("health check target %q needs a path", target)
	case (proto == "TCP" || proto == "SSL") && hasPath:
		return 0, fmt.Errorf("health check target %q cannot have a path", target)
	}
	return int32(n), nil
}

func elbLayer(protocol string) string {
	switch protocol {
	case "HTTP", "HTTPS":
		return "http"
	case "TCP", "SSL":
		return "tcp"
	}
	return ""
}

func elbSecure(protocol string) bool { return protocol == "HTTPS" || protocol == "SSL" }

func elbSameListener(a, b types.Listener) bool {
	return a.LoadBalancerPort == b.LoadBalancerPort && aws.ToInt32(a.InstancePort) == aws.ToInt32(b.InstancePort) &&
		aws.ToString(a.Protocol) == aws.ToString(b.Protocol) && aws.ToString(a.InstanceProtocol) == aws.ToString(b.InstanceProtocol) &&
		aws.ToString(a.SSLCertificateId) == aws.ToString(b.SSLCertificateId)
}

func elbValidation(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationError", Message: msg, Fault: smithy.FaultClient}
}

package config

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

var (
	elbName      = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)
	hostedZoneID = regexp.MustCompile(`^(/hostedzone/)?Z[A-Z0-9]{1,31}$`)
	ecsCluster   = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$|^arn:`)
	// ecrName is ECR's documented repository-name pattern.
	ecrName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	// ecrHost is the registry host of a private ECR repository.
	ecrHost = regexp.MustCompile(`^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)
	tagName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

func (a *AWS) validate(c *Config) []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	arnOf := func(input, value, service string, prefixes ...string) {
		if value == "" {
			return
		}
		if _, err := awsapi.ParseARN(input, value, service, prefixes...); err != nil {
			add(input, "%s", strings.TrimPrefix(err.Error(), input+" "))
		}
	}

	ecs := c.Platform == "ecs"
	if ecs && c.Command != command.Promote && a.Cluster == "" {
		add("cluster", "is required with platform ecs: the ECS cluster of the services %s-blue and %s-green", c.App, c.App)
	}
	if a.Cluster != "" && !ecsCluster.MatchString(a.Cluster) {
		add("cluster", "%q is not an ECS cluster name or ARN", a.Cluster)
	}
	if a.TaskDefinition != "" {
		if st, err := os.Stat(a.TaskDefinition); err != nil || st.IsDir() {
			add("task-definition", "%q is not a readable file", a.TaskDefinition)
		}
	}
	arnOf("target-group-blue", a.TargetGroupBlue, "elasticloadbalancing", "targetgroup/")
	arnOf("target-group-green", a.TargetGroupGreen, "elasticloadbalancing", "targetgroup/")
	if a.TargetGroupBlue != "" && a.TargetGroupBlue == a.TargetGroupGreen {
		add("target-group-green", "is the same target group as target-group-blue; each color needs its own")
	}

	arnOf("listener-arn", a.ListenerARN, "elasticloadbalancing", "listener/")
	arnOf("rule-arn", a.RuleARN, "elasticloadbalancing", "listener-rule/")
	arnOf("test-listener-arn", a.TestListenerARN, "elasticloadbalancing", "listener/")
	if a.TestListenerARN != "" && a.TestListenerARN == a.ListenerARN {
		add("test-listener-arn", "is the production listener; the test listener must be another one")
	}
	if a.LoadBalancerName != "" && !elbName.MatchString(a.LoadBalancerName) {
		add("load-balancer-name", "%q is not a load balancer name: up to 32 letters, digits and '-'", a.LoadBalancerName)
	}
	if _, err := a.Ports(); err != nil {
		errs = append(errs, err)
	}
	if a.HostedZoneID != "" && !hostedZoneID.MatchString(a.HostedZoneID) {
		add("hosted-zone-id", "%q is not a hosted zone ID, e.g. Z0123456789ABCDEFGHIJ", a.HostedZoneID)
	}

	if a.Region != "" {
		errs = append(errs, a.regionErrors(a.Region, "region is %q")...)
	}

	if a.EKSCluster != "" && c.Kubernetes.Kubeconfig != "" {
		add("eks-cluster", "and kubeconfig are both given; give one way to reach the cluster")
	}
	return errs
}

// CheckRegion reports every ARN input of a resource outside region, the
// region the run's AWS calls go to. Validate checks against the region
// input; setup calls CheckRegion again once the SDK has resolved the
// region from wherever it came (AWS_REGION, AWS_DEFAULT_REGION, a
// profile), before the first call: asked in the wrong region, AWS answers
// "not found" only after the SDK's retries. The errors name the inputs
// that hold the ARNs.
func (a *AWS) CheckRegion(region string) error {
	if region == "" {
		return nil
	}
	return errors.Join(a.regionErrors(region, "the AWS region of this run is %q (from the region input, AWS_REGION, AWS_DEFAULT_REGION or the profile)")...)
}

// regionErrors checks the ARN inputs that parse against region; those
// that do not parse are Validate's to report. where describes region.
func (a *AWS) regionErrors(region, where string) []error {
	var errs []error
	for _, in := range []struct{ input, value string }{
		{"cluster", a.Cluster},
		{"target-group-blue", a.TargetGroupBlue},
		{"target-group-green", a.TargetGroupGreen},
		{"listener-arn", a.ListenerARN},
		{"rule-arn", a.RuleARN},
		{"test-listener-arn", a.TestListenerARN},
	} {
		if !strings.HasPrefix(in.value, "arn:") {
			continue
		}
		parsed, err := arn.Parse(in.value)
		if err != nil || parsed.Region == "" || parsed.Region == region {
			continue
		}
		errs = append(errs, Errorf(in.input, "%q is in region %q, but "+where, in.value, parsed.Region, region))
	}
	return errs
}

// Ports returns listener-ports as port numbers.
func (a *AWS) Ports() ([]int32, error) {
	var out []int32
	for _, s := range a.ListenerPorts {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return nil, Errorf("listener-ports", "%q is not a port number from 1 to 65535, e.g. 80,443", s)
		}
		out = append(out, int32(p))
	}
	return out, nil
}

func (p *Promote) validate(c *Config) []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	if c.Command == command.Promote {
		if p.SourceImage == "" {
			add("source-image", "is required to promote: the image to copy, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:...")
		}
		if p.ECRRepository == "" {
			add("ecr-repository", "is required to promote: the repository to copy to, e.g. shop or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop")
		}
	}
	if p.SourceImage != "" && p.ECRRepository == "" && c.Deploys() {
		add("ecr-repository", "is required with source-image: where the image is promoted to before it is deployed")
	}
	if p.SourceImage != "" {
		if _, err := os.Stat(p.SourceImage); err != nil {
			if _, err := name.ParseReference(p.SourceImage); err != nil {
				add("source-image", "%q is neither an image reference, an OCI layout folder nor a docker save tarball", p.SourceImage)
			}
		}
	}
	if r := p.ECRRepository; r != "" {
		host, repo, full := strings.Cut(r, "/")
		if !full || !strings.Contains(host, ".") {
			repo = r
		} else if !ecrHost.MatchString(host) {
			// Any registry is fine; ECR only adds authentication.
			if _, err := name.NewRepository(r); err != nil {
				add("ecr-repository", "%q is not a repository, e.g. shop or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop", r)
			}
			repo = ""
		}
		// ECR allows 256 characters, but image references stop at 255.
		if repo != "" && (len(repo) < 2 || len(repo) > 255 || !ecrName.MatchString(repo)) {
			add("ecr-repository", "%q is not a valid ECR repository name: 2-255 lower-case letters, digits and . _ - separated by /", repo)
		}
	}
	for _, t := range p.Tags {
		if !tagName.MatchString(t) {
			add("tags", "%q is not a valid image tag: letters, digits, _ . - up to 128 characters, not starting with . or -", t)
		}
	}
	return errs
}

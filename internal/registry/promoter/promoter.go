// Package promoter is the promote step's adapter to package registry: it
// turns the promotion inputs into a copy by digest to ECR (logging in,
// creating the repository when asked) or to any other registry.
package promoter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/httptimeout"
	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// Promoter copies source-image to ecr-repository when a run asks for it.
// The ECR login happens when the step runs, not at setup, so that a dry
// run or a failed input check never calls AWS.
type Promoter struct {
	cfg     config.Promote
	region  string
	tags    []string
	rep     report.Reporter
	counter *awsapi.Counter
	// timeout bounds each registry and AWS request (request-timeout).
	timeout time.Duration
	// newECR makes the ECR client; tests replace it with a double.
	newECR func(aws.Config) ecrAPI
}

// ecrAPI is the part of the ECR client a promotion uses.
type ecrAPI interface {
	registry.ECRAuthAPI
	registry.ECRRepositoryAPI
}

func newECRClient(c aws.Config) ecrAPI { return ecr.NewFromConfig(c) }

// New returns the Promoter of cfg, or nil when nothing is to be promoted.
// Without tags of its own, the copy is tagged with gitSHA.
func New(cfg *config.Config, rep report.Reporter, counter *awsapi.Counter, gitSHA string) (*Promoter, error) {
	p := cfg.Promote
	if p.SourceImage == "" {
		return nil, nil
	}
	if _, err := registry.ParseSource(p.SourceImage); err != nil {
		return nil, config.Errorf("source-image", "%v", err)
	}
	tags := []string(p.Tags)
	if len(tags) == 0 && gitSHA != "" {
		tags = []string{gitSHA}
	}
	return &Promoter{cfg: p, region: cfg.AWS.Region, tags: tags, rep: rep, counter: counter, timeout: cfg.RequestTimeout.D(), newECR: newECRClient}, nil
}

// isECR reports whether the target is an ECR repository: a bare name (in
// the credentials' account) or an ECR registry host.
func isECR(repo string) bool {
	host, _, found := strings.Cut(repo, "/")
	return !found || !strings.ContainsAny(host, ".:") || strings.Contains(host, ".dkr.ecr.")
}

// Promote implements deploy.Promoter.
func (p *Promoter) Promote(ctx context.Context) (string, string, error) {
	opts := []registry.Option{
		registry.WithMask(p.rep.Mask),
		registry.WithLog(p.rep.Info),
		registry.WithProgress(func(pr registry.Progress) {
			p.rep.Progress(fmt.Sprintf("copied %d of %d bytes", pr.Done, pr.Total))
		}),
		registry.WithTransport(registryTransport(p.timeout)),
	}
	target := p.cfg.ECRRepository
	if isECR(target) {
		t, err := registry.ParseTarget(target, p.region, "")
		if err != nil {
			return "", "", config.Errorf("ecr-repository", "%v", err)
		}
		awsCfg, err := awsapi.LoadConfig(ctx, firstOf(p.region, t.Region), awsapi.WithCounter(p.counter), awsapi.WithHTTPTimeout(p.timeout))
		if err != nil {
			return "", "", fmt.Errorf("loading AWS configuration: %w", err)
		}
		client := p.newECR(awsCfg)
		login, err := registry.ECRAuth(ctx, client, p.rep.Mask)
		if err != nil {
			return "", "", err
		}
		repo, err := registry.EnsureRepository(ctx, client, registry.RepositorySpec{
			Name: t.Repository, RegistryID: t.Account,
			Create: bool(p.cfg.CreateRepository), ScanOnPush: bool(p.cfg.ScanOnPush), Immutable: bool(p.cfg.TagImmutability),
		})
		if err != nil {
			return "", "", missingRepository(err)
		}
		host := firstOf(t.Host, login.Host)
		opts = append(opts, registry.WithAuth(host, login.Auth))
		target = host + "/" + repo.Name
	}
	res, err := registry.Promote(ctx, registry.Request{Source: p.cfg.SourceImage, Target: target, Tags: p.tags}, opts...)
	if err != nil {
		return "", "", missingRepository(err)
	}
	p.rep.Info(fmt.Sprintf("promoted %s as %s: %d bytes uploaded, %d blobs mounted, %d already there",
		res.Source, res.Image, res.BytesUploaded, res.BlobsMounted, res.BlobsExisting))
	return res.Image, res.Digest, nil
}

// missingRepository reports a target repository that does not exist as a
// bad ecr-repository, as a missing cluster, listener or zone is a bad
// input: the input names something that is not there, and nothing has
// been written.
func missingRepository(err error) error {
	if errors.Is(err, registry.ErrRepositoryNotFound) {
		return config.Errorf("ecr-repository", "%v", err)
	}
	return err
}

// registryTransport bounds registry requests by d without cutting a copy
// of a large image short: a request that sends a blob is not bounded (its
// answer comes only once the blob is sent), and of the others only the
// answer's headers are (a blob's body may take long to read).
func registryTransport(d time.Duration) http.RoundTripper {
	return httptimeout.Transport(remote.DefaultTransport, d, func(req *http.Request) httptimeout.Mode {
		if req.Body != nil && req.Body != http.NoBody {
			return httptimeout.None
		}
		return httptimeout.Headers
	})
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

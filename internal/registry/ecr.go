package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
)

// ECRAuthAPI is the part of the ECR API that ECRAuth calls.
type ECRAuthAPI interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, opts ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// ECRRepositoryAPI is the part of the ECR API that EnsureRepository calls.
type ECRRepositoryAPI interface {
	DescribeRepositories(ctx context.Context, in *ecr.DescribeRepositoriesInput, opts ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	CreateRepository(ctx context.Context, in *ecr.CreateRepositoryInput, opts ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error)
}

var (
	_ ECRAuthAPI       = (*ecr.Client)(nil)
	_ ECRRepositoryAPI = (*ecr.Client)(nil)
)

// ECRLogin is what ECRAuth returns: credentials for the caller's ECR
// registry. The token they hold also opens every other ECR registry the
// caller's IAM principal may use, so pass it with WithAuth for the
// target's host.
type ECRLogin struct {
	// Host is the registry from the token's proxy endpoint,
	// "<account>.dkr.ecr.<region>.amazonaws.com".
	Host string
	// Account and Region are parsed from Host; empty if Host is not an
	// ECR host (an endpoint override, as in tests).
	Account string
	Region  string
	// Auth holds the user "AWS" and the token's password.
	Auth authn.Authenticator
	// Expires is when the token stops working (12 hours after issue).
	Expires time.Time
}

// ECRAuth gets an ECR authorization token and turns it into registry
// credentials. The token and the password inside it are passed to mask
// (the reporter's Mask, typically) before anything else is done with them.
// mask may be nil where nothing is logged.
func ECRAuth(ctx context.Context, api ECRAuthAPI, mask func(string)) (ECRLogin, error) {
	if mask == nil {
		mask = func(string) {}
	}
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return ECRLogin{}, fmt.Errorf("getting an ECR authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return ECRLogin{}, errors.New("getting an ECR authorization token: the answer holds no authorization data")
	}
	data := out.AuthorizationData[0]
	token := aws.ToString(data.AuthorizationToken)
	if token == "" {
		return ECRLogin{}, errors.New("getting an ECR authorization token: the answer holds an empty token")
	}
	mask(token)
	decoded, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		// The error holds only an offset, never the token.
		return ECRLogin{}, fmt.Errorf("decoding the ECR authorization token: %w", err)
	}
	user, password, ok := strings.Cut(string(decoded), ":")
	if !ok || user == "" || password == "" {
		return ECRLogin{}, errors.New("decoding the ECR authorization token: it is not <user>:<password>")
	}
	mask(password)

	endpoint := aws.ToString(data.ProxyEndpoint)
	host, err := endpointHost(endpoint)
	if err != nil {
		return ECRLogin{}, err
	}
	login := ECRLogin{
		Host:    host,
		Auth:    authn.FromConfig(authn.AuthConfig{Username: user, Password: password}),
		Expires: aws.ToTime(data.ExpiresAt),
	}
	login.Account, login.Region, _ = parseECRHost(host)
	return login, nil
}

// endpointHost returns the host of a proxy endpoint such as
// "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com".
func endpointHost(endpoint string) (string, error) {
	if endpoint == "" {
		return "", errors.New("getting an ECR authorization token: the answer holds no proxy endpoint")
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("getting an ECR authorization token: invalid proxy endpoint %q", endpoint)
	}
	return u.Host, nil
}

// RepositorySpec says which ECR repository an image goes to and what to do
// when it does not exist.
type RepositorySpec struct {
	// Name is the repository's name, "shop" or "team/shop".
	Name string
	// RegistryID is the account of the registry; empty means the caller's.
	RegistryID string
	// Create creates a missing repository, with ScanOnPush and Immutable
	// (tag immutability) as its settings. Without it a missing repository
	// is an ErrRepositoryNotFound.
	Create     bool
	ScanOnPush bool
	Immutable  bool
}

// Repository is an ECR repository as EnsureRepository found or made it.
type Repository struct {
	Name string
	// URI is "<account>.dkr.ecr.<region>.amazonaws.com/<name>".
	URI string
	// Created is true when EnsureRepository created it.
	Created bool
	// ScanOnPush and Immutable are the repository's settings, which for
	// an existing repository may differ from the spec's: they are left as
	// they are.
	ScanOnPush bool
	Immutable  bool
}

// EnsureRepository makes sure the repository of spec exists, creating it
// when spec.Create is set. Throttling errors are retried by the SDK client,
// not here.
func EnsureRepository(ctx context.Context, api ECRRepositoryAPI, spec RepositorySpec) (Repository, error) {
	if err := ValidateRepositoryName(spec.Name); err != nil {
		return Repository{}, err
	}
	var registryID *string
	if spec.RegistryID != "" {
		registryID = aws.String(spec.RegistryID)
	}
	describe := func() (Repository, error) {
		out, err := api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
			RegistryId:      registryID,
			RepositoryNames: []string{spec.Name},
		})
		if err != nil {
			return Repository{}, err
		}
		for _, r := range out.Repositories {
			if aws.ToString(r.RepositoryName) == spec.Name {
				return fromECR(r, false), nil
			}
		}
		return Repository{}, &types.RepositoryNotFoundException{Message: aws.String("not in the DescribeRepositories answer")}
	}

	repo, err := describe()
	var notFound *types.RepositoryNotFoundException
	switch {
	case err == nil:
		return repo, nil
	case !errors.As(err, &notFound):
		return Repository{}, fmt.Errorf("describing ECR repository %q: %w", spec.Name, err)
	case !spec.Create:
		return Repository{}, fmt.Errorf("finding ECR repository %q%s: %w (create it, or set create-repository: true)",
			spec.Name, inRegistry(spec.RegistryID), ErrRepositoryNotFound)
	}

	mutability := types.ImageTagMutabilityMutable
	if spec.Immutable {
		mutability = types.ImageTagMutabilityImmutable
	}
	out, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String(spec.Name),
		RegistryId:                 registryID,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: spec.ScanOnPush},
		ImageTagMutability:         mutability,
	})
	var exists *types.RepositoryAlreadyExistsException
	switch {
	case errors.As(err, &exists):
		// Created by a concurrent run between the two calls: use it.
		if repo, err := describe(); err == nil {
			return repo, nil
		}
		return Repository{}, fmt.Errorf("creating ECR repository %q: %w", spec.Name, err)
	case err != nil:
		return Repository{}, fmt.Errorf("creating ECR repository %q: %w", spec.Name, err)
	case out.Repository == nil:
		return Repository{}, fmt.Errorf("creating ECR repository %q: the answer describes no repository", spec.Name)
	}
	return fromECR(*out.Repository, true), nil
}

func inRegistry(id string) string {
	if id == "" {
		return ""
	}
	return " in registry " + id
}

func fromECR(r types.Repository, created bool) Repository {
	repo := Repository{
		Name:      aws.ToString(r.RepositoryName),
		URI:       aws.ToString(r.RepositoryUri),
		Created:   created,
		Immutable: r.ImageTagMutability == types.ImageTagMutabilityImmutable || r.ImageTagMutability == types.ImageTagMutabilityImmutableWithExclusion,
	}
	if r.ImageScanningConfiguration != nil {
		repo.ScanOnPush = r.ImageScanningConfiguration.ScanOnPush
	}
	return repo
}

package awsfake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
)

// ecrTokenLifetime is how long ECR authorization tokens last.
const ecrTokenLifetime = 12 * time.Hour

var (
	// ecrRepositoryRE is ECR's pattern for repository names; they are
	// also 2 to 256 characters long.
	ecrRepositoryRE = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	ecrAccountRE    = regexp.MustCompile(`^[0-9]{12}$`)
)

// ECR is a double of the Amazon ECR control plane for one account in one
// region: authorization tokens and repositories. Images are not modelled:
// they go through a registry (a real one, in tests) at the endpoint that
// GetAuthorizationToken hands out. It is safe for concurrent use.
type ECR struct {
	recorder

	account string
	region  string

	mu       sync.Mutex
	endpoint string
	password string
	repos    map[string]types.Repository // by name
}

// NewECR returns an ECR double for account (12 digits) in region, with no
// repositories. Its tokens carry a random password for the endpoint
// https://<account>.dkr.ecr.<region>.amazonaws.com until SetRegistry
// points them at a registry that runs.
func NewECR(account, region string) *ECR {
	return &ECR{
		recorder: recorder{service: "ECR", throttle: "ThrottlingException"},
		account:  account,
		region:   region,
		endpoint: "https://" + account + ".dkr.ecr." + region + ".amazonaws.com",
		password: ecrRandomPassword(),
		repos:    map[string]types.Repository{},
	}
}

// SetRegistry makes GetAuthorizationToken return endpoint (a URL such as
// "http://127.0.0.1:5000") as the proxy endpoint and a token carrying
// password for the user "AWS", as ECR does.
func (f *ECR) SetRegistry(endpoint, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoint = endpoint
	f.password = password
}

// Password returns the password that tokens carry.
func (f *ECR) Password() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.password
}

// AddRepository creates a repository directly, as if made outside the
// code under test, with ECR's defaults (mutable tags, no scan on push).
func (f *ECR) AddRepository(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos[name] = f.newRepository(name, false, types.ImageTagMutabilityMutable)
}

// Repository returns the repository called name, if it exists.
func (f *ECR) Repository(name string) (types.Repository, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.repos[name]
	return r, ok
}

// GetAuthorizationToken returns one token for the account's registry: the
// base64 of "AWS:<password>", valid for 12 hours, and the registry's proxy
// endpoint. RegistryIds is deprecated in ECR and ignored here too, except
// that each one must be an account ID.
func (f *ECR) GetAuthorizationToken(_ context.Context, in *ecr.GetAuthorizationTokenInput, _ ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	const op = "GetAuthorizationToken"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in != nil {
		for _, id := range in.RegistryIds {
			if !ecrAccountRE.MatchString(id) {
				return nil, f.invalidParameter(op, "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [0-9]{12}'")
			}
		}
	}
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + f.password))
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []types.AuthorizationData{{
		AuthorizationToken: ptr(token),
		ExpiresAt:          ptr(time.Now().Add(ecrTokenLifetime)),
		ProxyEndpoint:      ptr(f.endpoint),
	}}}, nil
}

// DescribeRepositories returns the named repositories, or every one when
// none is named. A named repository that does not exist fails the whole
// call with a RepositoryNotFoundException, as in ECR. Paging is not
// modelled: every repository comes in one page.
func (f *ECR) DescribeRepositories(_ context.Context, in *ecr.DescribeRepositoriesInput, _ ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	const op = "DescribeRepositories"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in == nil {
		in = &ecr.DescribeRepositoriesInput{}
	}
	registry, err := f.registryID(op, in.RegistryId)
	if err != nil {
		return nil, err
	}
	out := &ecr.DescribeRepositoriesOutput{}
	if len(in.RepositoryNames) == 0 {
		names := make([]string, 0, len(f.repos))
		for name := range f.repos {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			out.Repositories = append(out.Repositories, f.repos[name])
		}
		return out, nil
	}
	for _, name := range in.RepositoryNames {
		if err := f.validName(op, "repositoryNames", name); err != nil {
			return nil, err
		}
		r, ok := f.repos[name]
		if !ok {
			return nil, f.fail(op, &types.RepositoryNotFoundException{Message: ptr(fmt.Sprintf(
				"The repository with name '%s' does not exist in the registry with id '%s'", name, registry))})
		}
		out.Repositories = append(out.Repositories, r)
	}
	return out, nil
}

// CreateRepository creates a repository with the given scan-on-push and
// tag mutability settings (ECR's defaults: off and MUTABLE). A name that
// breaks ECR's naming rules is an InvalidParameterException; an existing
// name is a RepositoryAlreadyExistsException.
func (f *ECR) CreateRepository(_ context.Context, in *ecr.CreateRepositoryInput, _ ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error) {
	const op = "CreateRepository"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in == nil || in.RepositoryName == nil {
		return nil, f.invalidParameter(op, "1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null")
	}
	registry, err := f.registryID(op, in.RegistryId)
	if err != nil {
		return nil, err
	}
	name := *in.RepositoryName
	if err := f.validName(op, "repositoryName", name); err != nil {
		return nil, err
	}
	mutability := in.ImageTagMutability
	switch mutability {
	case "":
		mutability = types.ImageTagMutabilityMutable
	case types.ImageTagMutabilityMutable, types.ImageTagMutabilityImmutable:
	default:
		return nil, f.invalidParameter(op, fmt.Sprintf("Invalid parameter at 'imageTagMutability': %q is not modelled by this double", mutability))
	}
	if _, ok := f.repos[name]; ok {
		return nil, f.fail(op, &types.RepositoryAlreadyExistsException{Message: ptr(fmt.Sprintf(
			"The repository with name '%s' already exists in the registry with id '%s'", name, registry))})
	}
	scan := in.ImageScanningConfiguration != nil && in.ImageScanningConfiguration.ScanOnPush
	r := f.newRepository(name, scan, mutability)
	f.repos[name] = r
	return &ecr.CreateRepositoryOutput{Repository: &r}, nil
}

// newRepository describes a new repository as ECR does. The caller holds
// f.mu.
func (f *ECR) newRepository(name string, scanOnPush bool, mutability types.ImageTagMutability) types.Repository {
	host := strings.TrimPrefix(strings.TrimPrefix(f.endpoint, "https://"), "http://")
	return types.Repository{
		CreatedAt:                  ptr(time.Now()),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: scanOnPush},
		ImageTagMutability:         mutability,
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256},
		RegistryId:                 ptr(f.account),
		RepositoryArn:              ptr("arn:aws:ecr:" + f.region + ":" + f.account + ":repository/" + name),
		RepositoryName:             ptr(name),
		RepositoryUri:              ptr(host + "/" + name),
	}
}

// registryID checks an optional registry ID: this double holds only its
// own account's registry, and another account's is not visible to it.
func (f *ECR) registryID(op string, id *string) (string, error) {
	if id == nil || *id == f.account {
		return f.account, nil
	}
	if !ecrAccountRE.MatchString(*id) {
		return "", f.invalidParameter(op, "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression pattern: [0-9]{12}'")
	}
	return "", f.fail(op, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: fmt.Sprintf(
		"User is not authorized to access the registry with id '%s'", *id), Fault: smithy.FaultClient})
}

func (f *ECR) validName(op, field, name string) error {
	if len(name) < 2 || len(name) > 256 || !ecrRepositoryRE.MatchString(name) {
		return f.invalidParameter(op, fmt.Sprintf(
			"Invalid parameter at '%s' failed to satisfy constraint: 'must satisfy regular expression '%s' and have length 2-256'",
			field, ecrRepositoryRE.String()))
	}
	return nil
}

func (f *ECR) invalidParameter(op, msg string) error {
	return f.fail(op, &types.InvalidParameterException{Message: ptr(msg)})
}

func ecrRandomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

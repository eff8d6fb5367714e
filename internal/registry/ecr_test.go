package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

const (
	account = "123456789012"
	region  = "eu-west-1"
	ecrHost = account + ".dkr.ecr." + region + ".amazonaws.com"
)

func TestECRAuth(t *testing.T) {
	t.Parallel()
	fake := awsfake.NewECR(account, region)
	var masked lines
	login, err := registry.ECRAuth(t.Context(), fake, masked.add)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ecrHost, account, region}, []string{login.Host, login.Account, login.Region}); diff != "" {
		t.Errorf("host, account, region (-want +got):\n%s", diff)
	}
	if until := time.Until(login.Expires); until < 11*time.Hour || until > 13*time.Hour {
		t.Errorf("token expires in %s, want about 12h", until)
	}
	cfg, err := login.Auth.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *cfg, (authn.AuthConfig{Username: "AWS", Password: fake.Password()}); got != want {
		t.Errorf("credentials = %+v, want user AWS and the token's password", got)
	}
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + fake.Password()))
	if diff := cmp.Diff([]string{token, fake.Password()}, masked.all); diff != "" {
		t.Errorf("masked (-want +got):\n%s", diff)
	}
}

func TestECRAuthEndpointOverride(t *testing.T) {
	t.Parallel()
	fake := awsfake.NewECR(account, region)
	fake.SetRegistry("http://127.0.0.1:5000", "pw")
	login, err := registry.ECRAuth(t.Context(), fake, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"127.0.0.1:5000", "", ""}, []string{login.Host, login.Account, login.Region}); diff != "" {
		t.Errorf("host, account, region (-want +got):\n%s", diff)
	}
}

// tokenAPI answers GetAuthorizationToken with fixed data, to test answers
// ECR should never give.
type tokenAPI struct {
	data []types.AuthorizationData
	err  error
}

func (a tokenAPI) GetAuthorizationToken(context.Context, *ecr.GetAuthorizationTokenInput, ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: a.data}, a.err
}

func TestECRAuthRejectsBadTokens(t *testing.T) {
	t.Parallel()
	const secret = "p4ssw0rd-secret"
	endpoint := aws.String("https://" + ecrHost)
	b64 := func(s string) *string { return aws.String(base64.StdEncoding.EncodeToString([]byte(s))) }
	cases := []struct {
		name string
		api  registry.ECRAuthAPI
		want string
	}{
		{name: "no data", api: tokenAPI{}, want: "holds no authorization data"},
		{name: "empty token", api: tokenAPI{data: []types.AuthorizationData{{ProxyEndpoint: endpoint}}}, want: "holds an empty token"},
		{name: "not base64", api: tokenAPI{data: []types.AuthorizationData{{AuthorizationToken: aws.String("AWS:" + secret), ProxyEndpoint: endpoint}}}, want: "decoding the ECR authorization token: illegal base64 data"},
		{name: "no colon", api: tokenAPI{data: []types.AuthorizationData{{AuthorizationToken: b64(secret), ProxyEndpoint: endpoint}}}, want: "it is not <user>:<password>"},
		{name: "no endpoint", api: tokenAPI{data: []types.AuthorizationData{{AuthorizationToken: b64("AWS:" + secret)}}}, want: "holds no proxy endpoint"},
		{name: "throttled", api: throttled(), want: "getting an ECR authorization token: operation error ECR: GetAuthorizationToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := registry.ECRAuth(t.Context(), tc.api, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ECRAuth error = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error holds the secret: %v", err)
			}
		})
	}
}

func throttled() *awsfake.ECR {
	fake := awsfake.NewECR(account, region)
	fake.ThrottleEvery(1)
	return fake
}

func TestEnsureRepository(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		existing []string
		spec     registry.RepositorySpec
		want     registry.Repository
		wantIs   error
		wantErr  string
		creates  int
	}{
		{
			name: "exists", existing: []string{"shop"},
			spec: registry.RepositorySpec{Name: "shop", Create: true, ScanOnPush: true, Immutable: true},
			// An existing repository keeps its settings.
			want: registry.Repository{Name: "shop", URI: ecrHost + "/shop"},
		},
		{
			name:    "missing, not to be created",
			spec:    registry.RepositorySpec{Name: "shop"},
			wantIs:  registry.ErrRepositoryNotFound,
			wantErr: `finding ECR repository "shop": repository not found (create it, or set create-repository: true)`,
		},
		{
			name: "missing, created", existing: []string{"other"},
			spec:    registry.RepositorySpec{Name: "team/shop", Create: true, ScanOnPush: true, Immutable: true},
			want:    registry.Repository{Name: "team/shop", URI: ecrHost + "/team/shop", Created: true, ScanOnPush: true, Immutable: true},
			creates: 1,
		},
		{
			name:    "missing, created with defaults",
			spec:    registry.RepositorySpec{Name: "shop", Create: true},
			want:    registry.Repository{Name: "shop", URI: ecrHost + "/shop", Created: true},
			creates: 1,
		},
		{
			name:    "bad name",
			spec:    registry.RepositorySpec{Name: "Shop", Create: true},
			wantErr: `invalid ECR repository name "Shop"`,
		},
		{
			name:    "another account",
			spec:    registry.RepositorySpec{Name: "shop", RegistryID: "210987654321", Create: true},
			wantErr: `describing ECR repository "shop": operation error ECR: DescribeRepositories`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := awsfake.NewECR(account, region)
			for _, name := range tc.existing {
				fake.AddRepository(name)
			}
			got, err := registry.EnsureRepository(t.Context(), fake, tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("EnsureRepository error = %v, want one containing %q", err, tc.wantErr)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("error %q is not %v", err, tc.wantIs)
				}
				if n := fake.Count("CreateRepository"); n != 0 {
					t.Errorf("CreateRepository called %d times after an error", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EnsureRepository (-want +got):\n%s", diff)
			}
			if n := fake.Count("CreateRepository"); n != tc.creates {
				t.Errorf("CreateRepository called %d times, want %d", n, tc.creates)
			}
			// What ECR holds now, read back from the double.
			r, ok := fake.Repository(tc.spec.Name)
			if !ok {
				t.Fatalf("repository %q does not exist", tc.spec.Name)
			}
			if got, want := r.ImageScanningConfiguration.ScanOnPush, tc.want.ScanOnPush; got != want {
				t.Errorf("scan on push = %v, want %v", got, want)
			}
			wantMutability := types.ImageTagMutabilityMutable
			if tc.want.Immutable {
				wantMutability = types.ImageTagMutabilityImmutable
			}
			if r.ImageTagMutability != wantMutability {
				t.Errorf("tag mutability = %s, want %s", r.ImageTagMutability, wantMutability)
			}
		})
	}
}

func TestEnsureRepositoryThrottled(t *testing.T) {
	t.Parallel()
	_, err := registry.EnsureRepository(t.Context(), throttled(), registry.RepositorySpec{Name: "shop", Create: true})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("EnsureRepository error = %v, want a ThrottlingException", err)
	}
	if want := `describing ECR repository "shop"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want one containing %q", err, want)
	}
}

// createRace creates the repository just before CreateRepository runs, as
// a concurrent deploy would.
type createRace struct{ *awsfake.ECR }

func (c createRace) CreateRepository(ctx context.Context, in *ecr.CreateRepositoryInput, opts ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error) {
	c.AddRepository(aws.ToString(in.RepositoryName))
	return c.ECR.CreateRepository(ctx, in, opts...)
}

func TestEnsureRepositoryCreatedMeanwhile(t *testing.T) {
	t.Parallel()
	fake := awsfake.NewECR(account, region)
	got, err := registry.EnsureRepository(t.Context(), createRace{fake}, registry.RepositorySpec{Name: "shop", Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (registry.Repository{Name: "shop", URI: ecrHost + "/shop"}); got != want {
		t.Errorf("EnsureRepository = %+v, want %+v", got, want)
	}
}

package awsfake_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
)

const (
	ecrAccount = "123456789012"
	ecrRegion  = "eu-west-1"
)

func TestECRAuthorizationToken(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECR(ecrAccount, ecrRegion)
	f.SetRegistry("http://127.0.0.1:5000", "letmein")
	out, err := f.GetAuthorizationToken(t.Context(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("%d authorization data, want 1", len(out.AuthorizationData))
	}
	d := out.AuthorizationData[0]
	decoded, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"AWS:letmein", "http://127.0.0.1:5000"}, []string{string(decoded), aws.ToString(d.ProxyEndpoint)}); diff != "" {
		t.Errorf("token and endpoint (-want +got):\n%s", diff)
	}
	if d.ExpiresAt == nil {
		t.Error("no expiry")
	}

	_, err = f.GetAuthorizationToken(t.Context(), &ecr.GetAuthorizationTokenInput{RegistryIds: []string{"12"}})
	var invalid *types.InvalidParameterException
	if !errors.As(err, &invalid) {
		t.Errorf("bad registry ID: %v, want an InvalidParameterException", err)
	}
}

func TestECRDefaultEndpoint(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECR(ecrAccount, ecrRegion)
	out, err := f.GetAuthorizationToken(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.AuthorizationData[0].ProxyEndpoint), "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("endpoint = %q, want %q", got, want)
	}
	if f.Password() == "" {
		t.Error("no password")
	}
}

func TestECRRepositories(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECR(ecrAccount, ecrRegion)
	f.AddRepository("existing")
	ctx := t.Context()

	_, err := f.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"existing", "shop"}})
	var notFound *types.RepositoryNotFoundException
	if !errors.As(err, &notFound) || !strings.Contains(err.Error(), "The repository with name 'shop' does not exist in the registry with id '123456789012'") {
		t.Fatalf("describing a missing repository: %v, want a RepositoryNotFoundException naming it", err)
	}
	var op *smithy.OperationError
	if !errors.As(err, &op) || op.Service() != "ECR" || op.Operation() != "DescribeRepositories" {
		t.Errorf("error %v is not wrapped as the SDK wraps it", err)
	}

	created, err := f.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("team/shop"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := created.Repository
	want := []string{"team/shop", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop", "arn:aws:ecr:eu-west-1:123456789012:repository/team/shop", "IMMUTABLE"}
	got := []string{aws.ToString(r.RepositoryName), aws.ToString(r.RepositoryUri), aws.ToString(r.RepositoryArn), string(r.ImageTagMutability)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created repository (-want +got):\n%s", diff)
	}
	if !r.ImageScanningConfiguration.ScanOnPush {
		t.Error("scan on push is off, want on")
	}

	out, err := f.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range out.Repositories {
		names = append(names, aws.ToString(r.RepositoryName))
	}
	if diff := cmp.Diff([]string{"existing", "team/shop"}, names); diff != "" {
		t.Errorf("all repositories (-want +got):\n%s", diff)
	}

	_, err = f.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("existing")})
	var exists *types.RepositoryAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("creating an existing repository: %v, want a RepositoryAlreadyExistsException", err)
	}
	if r, _ := f.Repository("existing"); r.ImageTagMutability != types.ImageTagMutabilityMutable || r.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("AddRepository settings = %s, scan %v; want ECR's defaults", r.ImageTagMutability, r.ImageScanningConfiguration.ScanOnPush)
	}
}

func TestECRRejectsBadNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "Shop", "shop/", "/shop", "sh--op", "shop:1", strings.Repeat("a", 257)} {
		f := awsfake.NewECR(ecrAccount, ecrRegion)
		var invalid *types.InvalidParameterException
		if _, err := f.CreateRepository(t.Context(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}); !errors.As(err, &invalid) {
			t.Errorf("CreateRepository(%q): %v, want an InvalidParameterException", name, err)
		}
		if _, err := f.DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}}); !errors.As(err, &invalid) {
			t.Errorf("DescribeRepositories(%q): %v, want an InvalidParameterException", name, err)
		}
	}
	f := awsfake.NewECR(ecrAccount, ecrRegion)
	if _, err := f.CreateRepository(t.Context(), &ecr.CreateRepositoryInput{}); err == nil {
		t.Error("CreateRepository without a name succeeded")
	}
}

func TestECRThrottles(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECR(ecrAccount, ecrRegion)
	f.ThrottleEvery(2)
	ctx := t.Context()
	var errs []string
	for range 4 {
		_, err := f.DescribeRepositories(ctx, nil)
		var api smithy.APIError
		switch {
		case err == nil:
			errs = append(errs, "")
		case errors.As(err, &api):
			errs = append(errs, api.ErrorCode())
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if diff := cmp.Diff([]string{"", "ThrottlingException", "", "ThrottlingException"}, errs); diff != "" {
		t.Errorf("errors of 4 calls (-want +got):\n%s", diff)
	}
	if got := f.Count("DescribeRepositories"); got != 4 {
		t.Errorf("Count = %d, want 4 (throttled calls count)", got)
	}
}

func TestECROtherAccount(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECR(ecrAccount, ecrRegion)
	_, err := f.DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RegistryId: aws.String("210987654321")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Errorf("another account's registry: %v, want AccessDeniedException", err)
	}
}

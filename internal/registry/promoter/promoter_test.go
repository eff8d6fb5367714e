package promoter

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
)

// TestPromoteMissingECRRepository: a repository that does not exist is a
// bad ecr-repository (exit 2), as a missing cluster, listener or zone is,
// and nothing is created without create-repository.
func TestPromoteMissingECRRepository(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECR("123456789012", "eu-west-1")
	f.AddRepository("other")
	cfg := &config.Config{
		Command: "promote",
		AWS:     config.AWS{Region: "eu-west-1"},
		Promote: config.Promote{
			SourceImage:   "registry.example.com/shop@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			ECRRepository: "shop",
		},
	}
	p, err := New(cfg, plain.New(t.Output()), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	p.newECR = func(aws.Config) ecrAPI { return f }
	_, _, err = p.Promote(t.Context())
	var in *config.Error
	if !errors.As(err, &in) {
		t.Fatalf("Promote() error = %v, want a bad input", err)
	}
	if in.Input != "ecr-repository" {
		t.Errorf("error names input %q, want ecr-repository: %v", in.Input, err)
	}
	if _, ok := f.Repository("shop"); ok {
		t.Error("the missing repository was created without create-repository")
	}
}

package awsfake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
)

func tagList(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func listTags(t *testing.T, f *ECS, arn string) map[string]string {
	t.Helper()
	out, err := f.ListTagsForResource(t.Context(), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource(%q): %v", arn, err)
	}
	m := map[string]string{}
	for _, tag := range out.Tags {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

func TestTagResourceOverwritesAndUntagRemoves(t *testing.T) {
	t.Parallel()
	f := NewECS(nil)
	f.AddCluster("prod")
	arn := f.ClusterARN("prod")
	ctx := t.Context()

	if got := listTags(t, f, arn); len(got) != 0 {
		t.Errorf("tags of a new cluster = %v, want none", got)
	}
	for _, tags := range [][]types.Tag{tagList("team", "web", "lock", "a"), tagList("lock", "b")} {
		if _, err := f.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags}); err != nil {
			t.Fatalf("TagResource: %v", err)
		}
	}
	if diff := cmp.Diff(map[string]string{"team": "web", "lock": "b"}, listTags(t, f, arn)); diff != "" {
		t.Errorf("tags after two TagResource (-want +got):\n%s", diff)
	}
	_, err := f.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"lock", "absent"}})
	if err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"team": "web"}, listTags(t, f, arn)); diff != "" {
		t.Errorf("tags after UntagResource (-want +got):\n%s", diff)
	}
}

func TestTagTaskDefinitionAndService(t *testing.T) {
	t.Parallel()
	f, _ := newShop(t, false)
	ctx := t.Context()
	td := register(t, f, "shop:v2")
	svc := f.serviceARN("prod", "shop-blue")
	for _, arn := range []string{td, svc} {
		if _, err := f.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("bluegreen:result", "success")}); err != nil {
			t.Fatalf("TagResource(%q): %v", arn, err)
		}
	}
	want := map[string]string{"bluegreen:image": "shop:v2", "bluegreen:result": "success"}
	if diff := cmp.Diff(want, f.TaskDefinitionTags(td)); diff != "" {
		t.Errorf("task definition tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"bluegreen:result": "success"}, listTags(t, f, svc)); diff != "" {
		t.Errorf("service tags (-want +got):\n%s", diff)
	}
}

func TestTagErrors(t *testing.T) {
	t.Parallel()
	f := NewECS(nil)
	f.AddCluster("prod")
	register(t, f, "shop:v1")
	prod := f.ClusterARN("prod")
	var fifty []string
	for i := range 50 {
		fifty = append(fifty, fmt.Sprintf("k%d", i), "v")
	}
	if _, err := f.TagResource(t.Context(), &ecs.TagResourceInput{ResourceArn: aws.String(prod), Tags: tagList(fifty...)}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()

	cases := []struct {
		name string
		ctx  context.Context
		arn  string
		tags []types.Tag
		want error
	}{
		{name: "unknown cluster", arn: f.ClusterARN("staging"), tags: tagList("k", "v"), want: &types.ClusterNotFoundException{}},
		{name: "other account", arn: "arn:aws:ecs:us-east-1:210987654321:cluster/prod", tags: tagList("k", "v"), want: &types.ClusterNotFoundException{}},
		{name: "unknown revision", arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:9", tags: tagList("k", "v"), want: &types.ResourceNotFoundException{}},
		{name: "short service ARN", arn: "arn:aws:ecs:us-east-1:123456789012:service/shop-blue", tags: tagList("k", "v"), want: &types.InvalidParameterException{}},
		{name: "not an ARN", arn: "prod", tags: tagList("k", "v"), want: &types.InvalidParameterException{}},
		{name: "bad value", arn: prod, tags: tagList("k0", "a;b"), want: &types.InvalidParameterException{}},
		{name: "value too long", arn: prod, tags: tagList("k0", strings.Repeat("v", 257)), want: &types.InvalidParameterException{}},
		{name: "reserved key", arn: prod, tags: tagList("aws:k", "v"), want: &types.InvalidParameterException{}},
		{name: "fifty-first tag", arn: prod, tags: tagList("k50", "v"), want: &types.InvalidParameterException{}},
		{name: "no tags", arn: prod, want: &types.InvalidParameterException{}},
		{name: "cancelled", ctx: cancelled, arn: prod, tags: tagList("k0", "w"), want: context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := tc.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			_, err := f.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: tc.tags})
			if err == nil {
				t.Fatal("TagResource succeeded, want an error")
			}
			if !sameError(err, tc.want) {
				t.Errorf("TagResource = %v, want %T", err, tc.want)
			}
		})
	}
	// A refused write changes nothing.
	if got := listTags(t, f, prod); len(got) != 50 || got["k0"] != "v" {
		t.Errorf("after refused writes: %d tags, k0=%q; want 50 and v", len(got), got["k0"])
	}
}

func sameError(err, want error) bool {
	switch want.(type) {
	case *types.ClusterNotFoundException:
		var e *types.ClusterNotFoundException
		return errors.As(err, &e)
	case *types.ResourceNotFoundException:
		var e *types.ResourceNotFoundException
		return errors.As(err, &e)
	case *types.InvalidParameterException:
		var e *types.InvalidParameterException
		return errors.As(err, &e)
	}
	return errors.Is(err, want)
}

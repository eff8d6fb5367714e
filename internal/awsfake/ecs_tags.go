package awsfake

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS tags clusters, services (by their long ARN) and task definitions,
// all addressed by ARN. TagResource overwrites the values of keys already
// present and keeps the others; UntagResource ignores keys that are not
// there. Tag writes are atomic but not conditional: the last write wins.

// tagged returns the tags of the resource arn names. Errors are ECS's: a
// malformed or unsupported ARN is an InvalidParameterException, a missing
// cluster a ClusterNotFoundException, a missing service or task
// definition a ResourceNotFoundException.
func (f *ECS) tagged(op, arn string) (*[]types.Tag, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" {
		return nil, f.invalidParam(op, "Invalid resource ARN: %s", arn)
	}
	mine := parts[3] == f.region && parts[4] == f.account
	kind, name, _ := strings.Cut(parts[5], "/")
	switch kind {
	case "cluster":
		c := f.clusters[name]
		if !mine || c == nil {
			return nil, f.fail(op, &types.ClusterNotFoundException{Message: ptr("Cluster not found.")})
		}
		return &c.tags, nil
	case "service":
		clusterName, svcName, long := strings.Cut(name, "/")
		if !long {
			return nil, f.invalidParam(op, "Long arn format must be used for tagging operations")
		}
		c := f.clusters[clusterName]
		if !mine || c == nil {
			return nil, f.fail(op, &types.ClusterNotFoundException{Message: ptr("Cluster not found.")})
		}
		s := c.services[svcName]
		if s == nil || deref(s.svc.Status) != "ACTIVE" {
			return nil, f.fail(op, &types.ResourceNotFoundException{Message: ptr("The specified resource is not found.")})
		}
		return &s.svc.Tags, nil
	case "task-definition":
		td := f.taskDef(name)
		if !mine || td == nil || !strings.Contains(name, ":") {
			return nil, f.fail(op, &types.ResourceNotFoundException{Message: ptr("The specified resource is not found.")})
		}
		return &td.tags, nil
	}
	return nil, f.invalidParam(op, "The specified resource type is not supported: %s", arn)
}

// TagResource implements the ECS API: tags are added, and the values of
// keys already present replaced. A resource holds at most 50 tags. A
// request whose context is done by the time ECS would apply it is not
// applied, as a request the SDK cancelled before sending it.
func (f *ECS) TagResource(ctx context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	const op = "TagResource"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, f.fail(op, err)
	}
	if len(in.Tags) == 0 {
		return nil, f.invalidParam(op, "Tags should not be null or empty.")
	}
	if err := f.validTags(op, in.Tags); err != nil {
		return nil, err
	}
	tags, err := f.tagged(op, deref(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	next := slices.Clone(*tags)
	for _, t := range in.Tags {
		i := slices.IndexFunc(next, func(o types.Tag) bool { return deref(o.Key) == deref(t.Key) })
		if i >= 0 {
			next[i].Value = ptr(deref(t.Value))
			continue
		}
		next = append(next, types.Tag{Key: ptr(deref(t.Key)), Value: ptr(deref(t.Value))})
	}
	if err := f.validTags(op, next); err != nil {
		return nil, err
	}
	*tags = next
	return &ecs.TagResourceOutput{}, nil
}

// UntagResource implements the ECS API: the keys given are removed; keys
// not present are ignored.
func (f *ECS) UntagResource(ctx context.Context, in *ecs.UntagResourceInput, _ ...func(*ecs.Options)) (*ecs.UntagResourceOutput, error) {
	const op = "UntagResource"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, f.fail(op, err)
	}
	if len(in.TagKeys) == 0 {
		return nil, f.invalidParam(op, "TagKeys should not be null or empty.")
	}
	for _, k := range in.TagKeys {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, f.invalidParam(op, "Tag keys starting with 'aws:' are reserved.")
		}
	}
	tags, err := f.tagged(op, deref(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	*tags = slices.DeleteFunc(slices.Clone(*tags), func(t types.Tag) bool { return slices.Contains(in.TagKeys, deref(t.Key)) })
	return &ecs.UntagResourceOutput{}, nil
}

// ListTagsForResource implements the ECS API.
func (f *ECS) ListTagsForResource(_ context.Context, in *ecs.ListTagsForResourceInput, _ ...func(*ecs.Options)) (*ecs.ListTagsForResourceOutput, error) {
	const op = "ListTagsForResource"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tags, err := f.tagged(op, deref(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	out := make([]types.Tag, len(*tags))
	for i, t := range *tags {
		out[i] = types.Tag{Key: ptr(deref(t.Key)), Value: ptr(deref(t.Value))}
	}
	return &ecs.ListTagsForResourceOutput{Tags: out}, nil
}

// ClusterTags returns the tags of the named cluster.
func (f *ECS) ClusterTags(name string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	if c := f.clusters[name]; c != nil {
		for _, t := range c.tags {
			out[deref(t.Key)] = deref(t.Value)
		}
	}
	return out
}

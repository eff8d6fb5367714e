package ecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/ecstags"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// Tags bluegreen writes on the task definitions it registers: the release
// is read back from them.
// They are named in package ecstags, shared with the history.
const (
	ImageTag      = ecstags.Image
	DigestTag     = ecstags.Digest
	GitSHATag     = ecstags.GitSHA
	RunURLTag     = ecstags.RunURL
	DeployedAtTag = ecstags.DeployedAt
	ColorTag      = ecstags.Color
)

// ParseTaskDefinition reads a task definition file: the JSON that
// `aws ecs register-task-definition --cli-input-json` takes, or the
// taskDefinition object `aws ecs describe-task-definition` prints (its
// read-only fields, such as revision and status, are ignored). container,
// when not empty, must name one of its containers.
func ParseTaskDefinition(data []byte, container string) (*awsecs.RegisterTaskDefinitionInput, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing task definition: %w", err)
	}
	in := &awsecs.RegisterTaskDefinitionInput{}
	if inner, ok := doc["taskDefinition"]; ok {
		// The whole describe-task-definition output: its tags sit beside
		// the task definition.
		data = inner
		if tags, ok := doc["tags"]; ok {
			if err := json.Unmarshal(tags, &in.Tags); err != nil {
				return nil, fmt.Errorf("parsing task definition tags: %w", err)
			}
		}
	}
	if err := json.Unmarshal(data, in); err != nil {
		return nil, fmt.Errorf("parsing task definition: %w", err)
	}
	switch {
	case aws.ToString(in.Family) == "":
		return nil, errors.New(`task definition has no "family"`)
	case len(in.ContainerDefinitions) == 0:
		return nil, errors.New(`task definition has no "containerDefinitions"`)
	}
	if _, err := pickContainer(in.ContainerDefinitions, container, "the task definition file"); err != nil {
		return nil, err
	}
	return in, nil
}

// pickContainer returns the index of the container that gets the image:
// the named one, or the first essential one.
func pickContainer(defs []types.ContainerDefinition, name, where string) (int, error) {
	var names []string
	for i, d := range defs {
		if name == "" && aws.ToBool(orTrue(d.Essential)) {
			return i, nil
		}
		if name != "" && aws.ToString(d.Name) == name {
			return i, nil
		}
		names = append(names, aws.ToString(d.Name))
	}
	if name == "" {
		return -1, fmt.Errorf("%s has no essential container", where)
	}
	return -1, fmt.Errorf("%s has no container %q; its containers are %q", where, name, names)
}

// orTrue reads ECS's essential flag, which defaults to true.
func orTrue(b *bool) *bool {
	if b == nil {
		return aws.Bool(true)
	}
	return b
}

// inputOf turns a registered task definition back into what registers
// it again.
func inputOf(td *types.TaskDefinition, tags []types.Tag) *awsecs.RegisterTaskDefinitionInput {
	return &awsecs.RegisterTaskDefinitionInput{
		Family:                  td.Family,
		ContainerDefinitions:    slices.Clone(td.ContainerDefinitions),
		Cpu:                     td.Cpu,
		Memory:                  td.Memory,
		NetworkMode:             td.NetworkMode,
		ExecutionRoleArn:        td.ExecutionRoleArn,
		TaskRoleArn:             td.TaskRoleArn,
		Volumes:                 td.Volumes,
		PlacementConstraints:    td.PlacementConstraints,
		RequiresCompatibilities: td.RequiresCompatibilities,
		RuntimePlatform:         td.RuntimePlatform,
		ProxyConfiguration:      td.ProxyConfiguration,
		InferenceAccelerators:   td.InferenceAccelerators,
		IpcMode:                 td.IpcMode,
		PidMode:                 td.PidMode,
		EphemeralStorage:        td.EphemeralStorage,
		EnableFaultInjection:    td.EnableFaultInjection,
		Tags:                    tags,
	}
}

// withRelease returns a copy of in that runs r in the chosen container
// and carries the release in its tags, replacing bluegreen's old ones.
func withRelease(in *awsecs.RegisterTaskDefinitionInput, container string, c color.Color, r platform.Release) (*awsecs.RegisterTaskDefinitionInput, error) {
	out := *in
	out.ContainerDefinitions = slices.Clone(in.ContainerDefinitions)
	i, err := pickContainer(out.ContainerDefinitions, container, fmt.Sprintf("task definition %q", aws.ToString(in.Family)))
	if err != nil {
		return nil, err
	}
	out.ContainerDefinitions[i].Image = aws.String(imageRef(r))
	out.Tags = nil
	for _, t := range in.Tags {
		if !strings.HasPrefix(aws.ToString(t.Key), "bluegreen:") {
			out.Tags = append(out.Tags, t)
		}
	}
	at := r.DeployedAt
	if at.IsZero() {
		at = time.Now()
	}
	for _, kv := range [][2]string{
		{ImageTag, r.Image}, {DigestTag, r.Digest}, {GitSHATag, r.GitSHA}, {RunURLTag, r.RunURL},
		{DeployedAtTag, at.UTC().Format(time.RFC3339)}, {ColorTag, string(c)},
	} {
		if kv[1] != "" {
			out.Tags = append(out.Tags, types.Tag{Key: aws.String(kv[0]), Value: aws.String(ecstags.Value(kv[1]))})
		}
	}
	return &out, nil
}

// imageRef is the image the container runs: pinned by digest when one is
// known, so that a tag moved later does not change what runs.
func imageRef(r platform.Release) string {
	if r.Digest == "" || strings.Contains(r.Image, "@") {
		return r.Image
	}
	repo := r.Image
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + "@" + r.Digest
}

// releaseOf reads the release a task definition runs: from bluegreen's
// tags, unless the container was changed to another image since.
func releaseOf(td *types.TaskDefinition, tags []types.Tag, container string) platform.Release {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	r := platform.Release{Image: m[ImageTag], Digest: m[DigestTag], GitSHA: m[GitSHATag], RunURL: m[RunURLTag]}
	if t, err := time.Parse(time.RFC3339, m[DeployedAtTag]); err == nil {
		r.DeployedAt = t
	}
	if td == nil {
		return r
	}
	i, err := pickContainer(td.ContainerDefinitions, container, "task definition")
	if err != nil {
		return r
	}
	running := aws.ToString(td.ContainerDefinitions[i].Image)
	if r.Image == "" || (running != imageRef(r) && running != r.Image) {
		return platform.Release{Image: running}
	}
	return r
}

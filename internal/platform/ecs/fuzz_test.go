package ecs_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
)

// FuzzParseTaskDefinition: whatever the task definition file holds,
// ParseTaskDefinition returns an error, or an input to register whose
// family is set and which has the container the image goes to.
func FuzzParseTaskDefinition(f *testing.F) {
	const register = `{"family": "shop", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
	  "requiresCompatibilities": ["FARGATE"],
	  "containerDefinitions": [
	    {"name": "sidecar", "image": "envoy:1", "essential": false},
	    {"name": "web", "image": "shop:v1", "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
	     "environment": [{"name": "MODE", "value": "prod"}], "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/db"}]}],
	  "tags": [{"key": "team", "value": "shop"}]}`
	const describe = `{"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:7",
	  "family": "shop", "revision": 7, "status": "ACTIVE", "registeredAt": "2025-01-01T00:00:00.000Z",
	  "compatibilities": ["EC2", "FARGATE"], "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
	  "containerDefinitions": [{"name": "web", "image": "shop:v1", "essential": true}]},
	  "tags": [{"key": "team", "value": "shop"}]}`
	for _, container := range []string{"", "web", "sidecar", "api"} {
		f.Add([]byte(register), container)
		f.Add([]byte(describe), container)
	}
	f.Add([]byte(`{"family": "shop", "containerDefinitions": [{"name": "web", "essential": false}]}`), "")
	f.Add([]byte(`{"family": "shop", "containerDefinitions": [{}]}`), "")
	f.Add([]byte(`{"family": "shop", "containerDefinitions": [null]}`), "web")
	f.Add([]byte(`{"taskDefinition": null, "family": "shop"}`), "")
	f.Add([]byte(`{"taskDefinition": {"family": "shop", "containerDefinitions": [{"name": "web"}]}, "tags": {}}`), "")
	f.Add([]byte(`{"Family": "shop", "ContainerDefinitions": [{"Name": "web"}]}`), "web")
	f.Add([]byte(`[]`), "")
	f.Add([]byte(`null`), "")
	f.Fuzz(func(t *testing.T, data []byte, container string) {
		in, err := ecs.ParseTaskDefinition(data, container)
		if !json.Valid(data) && err == nil {
			t.Fatalf("ParseTaskDefinition accepted invalid JSON %q", data)
		}
		if err != nil {
			if in != nil {
				t.Errorf("ParseTaskDefinition returned an input with the error %q", err)
			}
			if strings.Contains(err.Error(), "has no container") && !strings.Contains(err.Error(), strconv.Quote(container)) {
				t.Errorf("error %q does not name the container %q", err, container)
			}
			return
		}
		checkTaskDefinition(t, in, container)

		// describe-task-definition's output wraps the same object.
		if isObject(data) && !hasKey(data, "taskDefinition") {
			wrapped := append(append([]byte(`{"taskDefinition": `), data...), '}')
			w, err := ecs.ParseTaskDefinition(wrapped, container)
			if err != nil {
				t.Fatalf("the same task definition as describe-task-definition prints it: %v", err)
			}
			if got, want := marshal(t, w), marshal(t, in); !bytes.Equal(got, want) {
				t.Errorf("wrapped as describe-task-definition prints it, the task definition reads\n%s\nnot\n%s", got, want)
			}
		}
	})
}

// checkTaskDefinition fails t unless in can be registered with the image
// in container (or the first essential container when it is empty).
func checkTaskDefinition(t *testing.T, in *awsecs.RegisterTaskDefinitionInput, container string) {
	t.Helper()
	if in == nil {
		t.Fatal("ParseTaskDefinition returned no error and no input")
	}
	if aws.ToString(in.Family) == "" {
		t.Error("ParseTaskDefinition accepted a task definition without a family")
	}
	for _, d := range in.ContainerDefinitions {
		if container == "" && (d.Essential == nil || *d.Essential) {
			return
		}
		if container != "" && aws.ToString(d.Name) == container {
			return
		}
	}
	t.Errorf("ParseTaskDefinition accepted a task definition without the container %q (empty: an essential one): %s", container, marshal(t, in))
}

func isObject(data []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(data, &m) == nil && m != nil
}

func hasKey(data []byte, key string) bool {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// classicELBServer answers, as ECS and the classic ELB do, the reads of a
// status run of app shop on ECS with router elb: service shop-blue runs
// shop:v1 on instance port 31001 (tag blue), green is port 31002, and the
// load balancer web has a single listener, port 80 to blue.
func classicELBServer(t *testing.T) *httptest.Server {
	const (
		account = "123456789012"
		region  = "eu-west-1"
		taskDef = "arn:aws:ecs:" + region + ":" + account + ":task-definition/shop:1"
	)
	service := fmt.Sprintf(`{"serviceName":"shop-blue","serviceArn":"arn:aws:ecs:%[1]s:%[2]s:service/prod/shop-blue",
		"clusterArn":"arn:aws:ecs:%[1]s:%[2]s:cluster/prod","status":"ACTIVE","desiredCount":2,"runningCount":2,"pendingCount":0,
		"taskDefinition":%[3]q,"deployments":[{"id":"ecs-svc/1","status":"PRIMARY","taskDefinition":%[3]q,
		"desiredCount":2,"runningCount":2,"rolloutState":"COMPLETED"}]}`, region, account, taskDef)
	ecs := map[string]string{
		"DescribeServices": `{"services":[` + service + `],"failures":[{"arn":"arn:aws:ecs:` + region + `:` + account +
			`:service/prod/shop-green","reason":"MISSING"}]}`,
		"DescribeTaskDefinition": `{"taskDefinition":{"taskDefinitionArn":"` + taskDef + `","family":"shop","revision":1,
			"containerDefinitions":[{"name":"web","image":"shop:v1"}]},"tags":[]}`,
		// status looks in the history for a release waiting for a switch.
		"ListTaskDefinitions": `{"taskDefinitionArns":[]}`,
	}
	elb := map[string]string{
		"DescribeLoadBalancers": `<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">
  <DescribeLoadBalancersResult><LoadBalancerDescriptions><member>
    <LoadBalancerName>web</LoadBalancerName>
    <ListenerDescriptions><member>
      <Listener><Protocol>HTTP</Protocol><LoadBalancerPort>80</LoadBalancerPort><InstanceProtocol>HTTP</InstanceProtocol><InstancePort>31001</InstancePort></Listener>
      <PolicyNames/>
    </member></ListenerDescriptions>
    <HealthCheck><Target>HTTP:31001/healthz</Target><Interval>10</Interval><Timeout>5</Timeout><UnhealthyThreshold>2</UnhealthyThreshold><HealthyThreshold>2</HealthyThreshold></HealthCheck>
    <Instances><member><InstanceId>i-1</InstanceId></member></Instances>
  </member></LoadBalancerDescriptions></DescribeLoadBalancersResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</DescribeLoadBalancersResponse>`,
		"DescribeTags": `<DescribeTagsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">
  <DescribeTagsResult><TagDescriptions><member>
    <LoadBalancerName>web</LoadBalancerName>
    <Tags><member><Key>blue</Key><Value>31001</Value></member><member><Key>green</Key><Value>31002</Value></member></Tags>
  </member></TagDescriptions></DescribeTagsResult>
  <ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>
</DescribeTagsResponse>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			_, op, _ := strings.Cut(target, ".")
			body, ok := ecs[op]
			if !ok {
				t.Errorf("unexpected ECS call %s", op)
				http.Error(w, `{"__type":"ClientException","message":"unexpected call"}`, http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, body)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, ok := elb[r.Form.Get("Action")]
		if !ok {
			t.Errorf("unexpected ELB call %s", r.Form.Get("Action"))
			http.Error(w, "unexpected call", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClassicELBListenerPorts runs status on ECS with router elb against a
// classic load balancer that has only a port-80 listener: with no
// listener-ports it reads the live color from that listener; a named port
// the load balancer has no listener on is a bad listener-ports.
func TestClassicELBListenerPorts(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	srv := classicELBServer(t)
	cases := []struct {
		name     string
		ports    string
		code     int
		stdout   string
		stderr   string
		noStderr bool
	}{
		{name: "default", code: exitOK, stdout: "blue (unchanged)", noStderr: true},
		{name: "named port missing", ports: "80,443", code: exitInput, stderr: `input "listener-ports": load balancer "web" has no listener on port 443`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := append(awsStandInEnv(dir, srv.URL),
				"AWS_REGION=eu-west-1",
				"BLUEGREEN_COMMAND=status",
				"BLUEGREEN_APP=shop",
				"BLUEGREEN_PLATFORM=ecs",
				"BLUEGREEN_CLUSTER=prod",
				"BLUEGREEN_ROUTER=elb",
				"BLUEGREEN_LOAD_BALANCER_NAME=web",
			)
			if tc.ports != "" {
				e = append(e, "BLUEGREEN_LISTENER_PORTS="+tc.ports)
			}
			code, stdout, stderr := runBinary(t, bin, dir, e)
			if code != tc.code {
				t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if tc.noStderr && stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to hold %q", stderr, tc.stderr)
			}
			if tc.stdout != "" && !strings.Contains(stdout, "live") {
				t.Errorf("stdout does not say which color is live:\n%s", stdout)
			}
			if tc.stdout != "" && !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout does not name %s:\n%s", tc.stdout, stdout)
			}
		})
	}
}

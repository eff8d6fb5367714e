// Package awsapi is the AWS plumbing shared by the ECS platform and the
// load-balancer routers: loading the SDK configuration (region, standard
// retries, a custom CA bundle), counting the API calls a run makes,
// jittered poll intervals, ARN validation, classification of AWS errors
// (throttling, not found), and reading a target group's health, which the
// ALB router and the ECS platform both judge the same way.
//
// Each consumer declares the narrow SDK interface it uses next to itself.
package awsapi

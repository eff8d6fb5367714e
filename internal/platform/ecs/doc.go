// Package ecs runs the two colors of an application as two ECS services,
// <app>-blue and <app>-green, in one cluster, each behind its own load
// balancer target group. Which color receives production traffic is the
// router's business (package router/alb).
//
// A deploy registers a new task definition revision (from a task
// definition file, or copied from the live color's) with the image
// replaced and the release recorded in its tags (bluegreen:image,
// bluegreen:git-sha, ...), then points the color's service at it; a
// missing service is created as a copy of the other color's. Wait polls
// the service until ECS reports the rollout COMPLETED with every task
// running and every target healthy, and fails early, with the service's
// events and the stopped tasks' reasons, when the deployment circuit
// breaker fails or rolls back the rollout.
package ecs
